/**
 * Who is asking, as Kafka's ACLs name it: `User:<name>`. Every edge (HTTP, SSE, the Kafka
 * listener) learns the principal of a request once, from its credentials (Basic, API key, JWT,
 * SASL, a client certificate), and everything below reads only this value. A request that brings
 * no credentials is `User:ANONYMOUS`, as in Kafka.
 */

export interface Principal {
  readonly type: 'User';
  readonly name: string;
}

export const ANONYMOUS: Principal = Object.freeze({ type: 'User', name: 'ANONYMOUS' });

/** `User:alice`: the form ACLs, `super.users` and logs use. */
export function principalText(principal: Principal): string {
  return `${principal.type}:${principal.name}`;
}

/** `User:alice` → the principal; undefined when the text is not `User:<non-empty name>`. */
export function parsePrincipal(text: string): Principal | undefined {
  if (!text.startsWith('User:') || text.length === 'User:'.length) return undefined;
  return { type: 'User', name: text.slice('User:'.length) };
}

export function userPrincipal(name: string): Principal {
  return { type: 'User', name };
}
