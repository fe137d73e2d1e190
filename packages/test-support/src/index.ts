export { loadVectors, vectorPath } from './vectors.ts';
export { seededRng, systemRng } from './rng.ts';
export { checkWithCorpus, corpusAt, corpusEntries, fromCorpusJson, toCorpusJson, type Corpus, type CorpusEntry, type CorpusPredicate } from './corpus.ts';
export { freePort, runProcess, startProcess, type ProcessExit, type ProcessOptions, type RunResult, type StartedProcess } from './process.ts';
export { CANDIDATE_HZ, dominantTone, fromFloat, goertzel, loudestWindow, stereo, tone, type ToneVerdict } from './tones.ts';
export { chromiumAnswer, chromiumOffer, digestBytes, fingerprintOf, type SdpOptions } from './calls.ts';
