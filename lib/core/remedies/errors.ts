/** A remedy refused its input (unknown ids, a pair that is not a duplicate, ...): the message says why. */
export class RemedyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemedyRefusedError';
  }
}
