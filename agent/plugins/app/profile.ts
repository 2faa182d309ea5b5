import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { LoadedProfile } from '../../../profile/profile.ts'
import type { Config } from '../../config.ts'

declare module 'fastify' {
  interface FastifyInstance {
    profile: LoadedProfile
    config: Config
  }
}

async function profilePlugin (fastify: FastifyInstance, opts: { profile: LoadedProfile, config: Config }): Promise<void> {
  fastify.decorate('profile', opts.profile)
  fastify.decorate('config', opts.config)
}

export default fp(profilePlugin, { name: 'profile', fastify: '5.x' })
