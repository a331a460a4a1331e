/** Small statistics the bench's A/B measures share. */

/** The arithmetic mean (`NaN` for no values). */
export const mean = (values: readonly number[]): number =>
  values.reduce((a, b) => a + b, 0) / values.length;
