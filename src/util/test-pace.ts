/**
 * A pause at the safe points of long runs (between sessions, between media pages), for the tests
 * that press Ctrl-C mid-run: without it a fast machine finishes before the keystroke lands.
 * Set only by the test suite (WAHA_STORAGE_TEST_PACE_MS); unset, it costs one resolved promise.
 */
const paceMs = Number(process.env.WAHA_STORAGE_TEST_PACE_MS ?? 0);

export function testPace(): Promise<void> {
  if (!(paceMs > 0)) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, paceMs));
}
