export { loadVectors, vectorPath } from './vectors.ts';
export { seededRng, systemRng } from './rng.ts';
