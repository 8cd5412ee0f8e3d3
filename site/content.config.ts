// The plans collection: Twofold's loader (site/lib/plans-loader.ts) and the one plan schema that
// the CLI and the worker use too.
import { defineCollection } from 'astro:content';
import { planSchema } from './core/plan/plan-schema.ts';
import { plansLoader } from './lib/plans-loader.ts';

export const collections = {
  plans: defineCollection({ loader: plansLoader(), schema: planSchema }),
};
