// Owns how a number in a URL, query or form is read: canonical decimal only, the one schema every route uses.
import { z } from 'zod';

/**
 * A whole number written the one way people write it: `16`, never `0x10`, `2e2`, `016`, `+16` or `16.0`
 * (Number() and z.coerce take them all, so one resource got many addresses). A JSON number is taken as is.
 */
export const decimalInt = (min: number, max: number, message = `expected a whole number from ${min} to ${max}`) =>
  z
    .union(
      [
        z.number(),
        z
          .string()
          .regex(/^(?:0|[1-9]\d{0,15})$/, { error: message })
          .transform(Number),
      ],
      { error: message },
    )
    .pipe(z.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message }));
