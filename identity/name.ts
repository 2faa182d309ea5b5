// Names are stored and shown masked: enough for staff to confirm the patient at the desk
// (surname and, for longer names, the last character), not enough to identify someone from a leaked file.

export function maskName (name: string | null | undefined): string | null {
  if (name === null || name === undefined) return null
  const chars = Array.from(name.replace(/[\s\u3000]/g, ''))
  if (chars.length === 0) return null
  if (chars.length === 1) return '*'
  if (chars.length === 2) return chars[0] + '*'
  return chars[0] + '*'.repeat(chars.length - 2) + chars[chars.length - 1]
}
