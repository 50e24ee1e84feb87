/**
 * A request URL as logs may show it: a stream token (`access_token=`, see authentication.ts) is a
 * credential, replaced by `[REDACTED]`; everything else is kept.
 */
const ACCESS_TOKEN = /([?&]access_token=)[^&#]*/g;

export function loggedUrl(url: string): string {
  return url.includes('access_token=') ? url.replace(ACCESS_TOKEN, '$1[REDACTED]') : url;
}
