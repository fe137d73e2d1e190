// The CLI's call media as a library (`@sotto/cli/calls`), for tests that drive a Node call peer
// directly — a browser↔CLI interop test, or two peers in one process (test/cli-call-media.test.ts):
//
//   const media = new WeriftCallMedia({ source: pcmSource(samples48k), onAudio: (pcm, at) => ... });
//   const call = await client.placeCall('bob', media);          // or: await incoming.accept(media)
//   ... media.stats → { sent, received, dropped, undecodable }; media.whenConnected()
//
// Loading it loads werift and (on first use of a codec) opusscript; the `sotto` command loads it only
// for `call` and `answer`.
export { WeriftCallMedia, pcmSource, type IceServer, type MediaConnectionState, type WeriftCallMediaOptions, type WeriftCallMediaStats } from './werift-media.ts';
export { OpusDecoder, OpusEncoder, FRAME_SAMPLES, FRAME_MS } from './opus.ts';
export { AudioTimeline } from './timeline.ts';
export { CALL_SAMPLE_RATE, WavWriter, encodeWav, parseWav, resampleLinear, toMono48k, type PcmAudio } from './wav.ts';
export { demuxOggOpus, muxOggOpus, oggCrc32, opusPacketSamples, OGG_OPUS_MIME, type OggOpusStream, type OpusHead } from './ogg-opus.ts';
export { decodeOggOpus, encodeVoicemail, OPUS_PRE_SKIP, type EncodedVoicemail } from './voicemail.ts';
export { parseSasAnswer, SasQuestion, type AnswerInput, type SasAnswer } from './sas-answer.ts';
