// A real, local demonstration of the protocol core (`node --import tsx scripts/demo.ts`; `npm start` ran
// it until the server existed).
// Alice and Bob live in one process; "the server" is a byte array passed between them, exactly what
// a relay would see. Nothing here is mocked: real keys, real PQXDH, real ratchet, real envelopes.
import { randomFillSync } from 'node:crypto';
import { fastProvider } from '@sotto/crypto';
import {
  IdentityKeyPair,
  KemPrekeyPrivate,
  MemoryPrekeyStore,
  SignedPrekeyPrivate,
  acceptPrekeyMessage,
  createSenderCertificate,
  decodePrekeyBundle,
  encodePrekeyBundle,
  generateKemPrekeys,
  generateOneTimePrekeys,
  initiateSession,
  isProtocolError,
  openEnvelope,
  sealEnvelope,
  sessionDecrypt,
  sessionEncrypt,
  sottoSafetyNumber,
  verifyPrekeyBundle,
  type Session,
} from '@sotto/protocol';

const crypto = fastProvider;
const rng = (n: number): Uint8Array => randomFillSync(new Uint8Array(n));
const text = new TextEncoder();
const read = new TextDecoder();
const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const now = Date.now();
const day = 24 * 60 * 60 * 1000;

out(`Sotto protocol demo (crypto provider: ${crypto.name})`);
out();

// 1. Bob creates his identity and publishes prekeys (docs/protocol/03).
const bob = await IdentityKeyPair.generate(crypto, rng);
const bobStore = new MemoryPrekeyStore();
const spk = await SignedPrekeyPrivate.generate(crypto, rng, bob, 1);
const otps = await generateOneTimePrekeys(crypto, rng, bob, 100, 5);
const kems = await generateKemPrekeys(crypto, rng, bob, 200, 5);
const lastResort = await KemPrekeyPrivate.generate(crypto, rng, bob, 999, true);
bobStore.addSignedPrekey(spk);
bobStore.addOneTimePrekeys(otps);
bobStore.addKemPrekeys([...kems, lastResort]);
const firstOtp = otps[0];
const firstKem = kems[0];
if (firstOtp === undefined || firstKem === undefined) throw new Error('demo: no prekeys generated');
const bundleBytes = encodePrekeyBundle({ identityKey: bob.publicKey, signedPrekey: spk.public, oneTimePrekey: firstOtp.public, kemPrekey: firstKem.public });
out(`1. Bob publishes a prekey bundle: ${bundleBytes.length} bytes (X25519 signed + one-time prekeys, ML-KEM-1024 prekey)`);

// 2. Alice fetches and verifies it, and starts a session (PQXDH, docs/protocol/04).
const alice = await IdentityKeyPair.generate(crypto, rng);
const bundle = await verifyPrekeyBundle(crypto, decodePrekeyBundle(bundleBytes));
let aliceSession: Session = await initiateSession(crypto, rng, alice, bundle);
out('2. Alice verifies the bundle signatures and runs PQXDH (4 × X25519 + ML-KEM-1024)');

// 3. Alice sends a sealed envelope: the relay sees only the recipient and a padded size.
const aliceCert = await createSenderCertificate(crypto, alice, { username: 'alice', deviceId: 1, expiresAt: now + day });
const first = await sessionEncrypt(crypto, rng, aliceSession, text.encode('Hello Bob — this is end-to-end encrypted.'));
aliceSession = first.session;
const envelope = await sealEnvelope(crypto, rng, { sender: alice, certificate: aliceCert, recipient: bob.publicKey, contentType: first.message.kind, content: first.message.bytes });
out(`3. Alice seals a ${first.message.kind} message into a ${envelope.length}-byte envelope (padded bucket; sender hidden)`);

// 4. Bob opens it, learns the sender from inside, and accepts the session.
const opened = await openEnvelope(crypto, bob, envelope, now);
const accepted = await acceptPrekeyMessage(crypto, rng, bob, bobStore, opened.content);
let bobSession: Session = accepted.session;
out(`4. Bob opens it: from "${opened.sender.username}", says "${read.decode(accepted.plaintext)}"`);
out(`   one-time prekey ${String(accepted.consumed.oneTimePrekeyId)} and KEM prekey ${accepted.consumed.kemPrekeyId} are now deleted`);

// 5. A conversation with reordering: every reply moves the DH ratchet (forward secrecy, healing).
const reply = await sessionEncrypt(crypto, rng, bobSession, text.encode('Hi Alice! Got it.'));
bobSession = reply.session;
const r = await sessionDecrypt(crypto, rng, aliceSession, reply.message.bytes);
aliceSession = r.session;
out(`5. Alice reads Bob's reply: "${read.decode(r.plaintext)}" (she now sends ordinary ratchet messages)`);
const burst: Uint8Array[] = [];
for (const word of ['one', 'two', 'three']) {
  const m = await sessionEncrypt(crypto, rng, aliceSession, text.encode(word));
  aliceSession = m.session;
  burst.push(m.message.bytes);
}
for (const i of [2, 0, 1]) {
  const msg = burst[i];
  if (msg === undefined) continue;
  const d = await sessionDecrypt(crypto, rng, bobSession, msg);
  bobSession = d.session;
  out(`   Bob receives message #${i + 1} out of order: "${read.decode(d.plaintext)}"`);
}

// 6. The network replays and tampers; both are rejected and the session keeps working.
const replayed = burst[0];
if (replayed !== undefined) {
  try {
    await sessionDecrypt(crypto, rng, bobSession, replayed);
    out('   replay accepted?! (this must not happen)');
    process.exitCode = 1;
  } catch (e) {
    out(`6. A replayed message is rejected: ${isProtocolError(e) ? e.code : String(e)}`);
  }
}
const forged = await sessionEncrypt(crypto, rng, aliceSession, text.encode('transfer 100 EUR'));
const tampered = forged.message.bytes.slice();
tampered[tampered.length - 20] = (tampered[tampered.length - 20] ?? 0) ^ 0x01;
try {
  await sessionDecrypt(crypto, rng, bobSession, tampered);
  out('   tampered message accepted?! (this must not happen)');
  process.exitCode = 1;
} catch (e) {
  out(`   A message with one flipped bit is rejected: ${isProtocolError(e) ? e.code : String(e)}`);
}
const genuine = await sessionDecrypt(crypto, rng, bobSession, forged.message.bytes);
bobSession = genuine.session;
out(`   ...and the genuine one still decrypts: "${read.decode(genuine.plaintext)}"`);

// 7. Safety numbers: both sides compute the same 60 digits (docs/protocol/07).
const sa = sottoSafetyNumber(crypto, { username: 'alice', identityKey: alice.publicKey }, { username: 'bob', identityKey: aliceSession.remoteIdentityKey });
const sb = sottoSafetyNumber(crypto, { username: 'bob', identityKey: bob.publicKey }, { username: 'alice', identityKey: bobSession.remoteIdentityKey });
const groups = (s: string): string => (s.match(/.{5}/g) ?? []).join(' ');
out();
out('7. Safety number (compare it in person or scan the QR payload):');
out(`   Alice sees: ${groups(sa.displayable)}`);
out(`   Bob sees:   ${groups(sb.displayable)}`);
out(`   ${sa.displayable === sb.displayable ? 'They match: no one is in the middle.' : 'MISMATCH'}`);
if (sa.displayable !== sb.displayable) process.exitCode = 1;
