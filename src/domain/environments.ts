// Zod-free on purpose: workflow code imports this, and every module in the workflow bundle that the SDK does not
// share is evaluated again for each workflow it runs (a cached workflow holds its own copy).
export const ENVIRONMENTS = ['sandbox', 'production'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
