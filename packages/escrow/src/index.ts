// @sotto/escrow — MIKEY-SAKKE implemented from its RFCs as the counter-example for the scorecard
// (issue "The escrow counter-example and the scorecard"). Its key management server can derive every
// user's private keys: that is the point being demonstrated. Nothing in Sotto uses it for protection.
export {};
