// Zod-free and crypto-free on purpose: workflow code imports this (lib/secret-seal.ts seals and opens).

/** How a sealed signing secret or header value begins: `sealed:v1:<key id>:<base64>`. */
export const SEALED_PREFIX = 'sealed:v1:';

export const isSealedSecret = (value: string): boolean => value.startsWith(SEALED_PREFIX);

/** A signing secret as an entity may hold one: sealed, or in the clear as entities made before sealing hold it. */
export const isSigningSecret = (value: string): boolean => isSealedSecret(value) || value.startsWith('whsec_');
