// At start, each local setting the region profile needs and the hospital has not given is logged as
// a warning naming the setting and what stays off, and staff get one alert for them (resolved once
// the settings are given and the agent restarted). /readyz reports the agent degraded meanwhile.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

async function localSettingsPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.addHook('onReady', async () => {
    const { profile } = fastify
    for (const m of profile.missingLocal) {
      fastify.log.warn({ profile: profile.id, setting: `local.${m.key}` }, `local setting missing: local.${m.key} — ${m.message}`)
    }
    await fastify.rules.checkLocalSettings().catch((err: unknown) => fastify.log.warn({ err }, 'could not record the missing local settings'))
  })
}

export default fp(localSettingsPlugin, { name: 'local-settings', fastify: '5.x', dependencies: ['profile', 'rules'] })
