// docs/protocol/09 §9.9: the attachment upload's answer. The blob itself is the binary body.
import { ATTACHMENT_ID_BYTES } from './constants.ts';
import { body, bytes, object, uint, type FieldCodec } from './fields.ts';

/** `POST /v1/attachments` answer (201). */
export interface AttachmentResponse {
  readonly id: Uint8Array;
  readonly expiresAt: number;
}

const attachmentResponse: FieldCodec<AttachmentResponse> = object({ id: bytes({ length: ATTACHMENT_ID_BYTES }), expiresAt: uint });
const attachmentResponseBody = body(attachmentResponse, 'attachment response');

export const encodeAttachmentResponse = attachmentResponseBody.encode;
export const decodeAttachmentResponse = attachmentResponseBody.decode;
