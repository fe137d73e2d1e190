// What a scenario is (issue 6, docs/scorecard.md): one attack against one system, run for real, reporting what
// happened. The outcome is decided inside `run()` from the attack's own results — what the attacker could
// decrypt with what it held, and what the victim's software accepted or reported — never written by hand.

/** The EFF secure-messaging criteria, run as attacks (docs/scorecard.md §2). */
export const ATTACKS = ['passive-capture', 'provider-compromise', 'key-substitution', 'device-key-theft', 'replay', 'downgrade'] as const;
export type AttackId = (typeof ATTACKS)[number];

/** The systems attacked: MIKEY-SAKKE (calls only), Sotto's messages, and Sotto's calls (docs/scorecard.md §3, §4). */
export const SYSTEMS = ['MIKEY-SAKKE', 'Sotto', 'Sotto calls'] as const;
export type SystemId = (typeof SYSTEMS)[number];

/**
 * - `resisted`: the attack achieved nothing (nothing decrypted, the forgery or replay refused);
 * - `detected`: the attack got as far as the victim's software, which told the user (a trust warning, a refusal);
 * - `compromised`: the attacker read content or the victim's software accepted the attack without a sign.
 */
export type Outcome = 'resisted' | 'detected' | 'compromised';

export interface AttackResult {
  readonly outcome: Outcome;
  /** One or two sentences: what was run and what was observed (counts, error codes, what the user saw). */
  readonly detail: string;
}

export interface Scenario {
  readonly attack: AttackId;
  readonly system: SystemId;
  run(): Promise<AttackResult>;
}

/** The worst of several outcomes (compromised > detected > resisted). */
export function worstOutcome(outcomes: readonly Outcome[]): Outcome {
  if (outcomes.includes('compromised')) return 'compromised';
  if (outcomes.includes('detected')) return 'detected';
  return 'resisted';
}
