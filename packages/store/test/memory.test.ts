// The in-memory store against the shared conformance suite.
import { createMemoryStore } from '@sotto/store';
import { storeConformance } from './conformance.ts';

storeConformance('memory', () => Promise.resolve(createMemoryStore()));
