import pino from 'pino';

/** One logger for the process; entry points set its level from Config once it is parsed. */
export const logger = pino();
