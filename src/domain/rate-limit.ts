/**
 * A rate-limited endpoint's `rateLimit` requests share a window of this long, 10% over a second: its entity spaces
 * send slots this long over `rateLimit`, and each worker keeps its own sends that far apart, so a request sent a
 * little late (the slot's answer was slow, a first connection opened) cannot make any second hold rateLimit + 1.
 */
export const RATE_WINDOW_MS = 1100;
