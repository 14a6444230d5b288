// Owns the contract between whoever sends mail (confirmations, digests) and how it leaves (outbox file, SMTP).
import { z } from 'zod';
import { bounceSeverity } from './bounce-report.js';

/** An email composed by nodemailer from parts. */
export interface OutgoingMessage {
  to: string;
  from?: string;
  subject: string;
  html: string;
  text: string;
  headers?: Record<string, string>;
  messageId?: string;
}

/** A message already serialised to RFC 5322 bytes; the fast path for digests. */
export interface RawMessage {
  envelope: { from: string; to: string[] };
  /**
   * The message; as chunks when it is mostly shared bytes (a prebuilt template around a few per-recipient values):
   * an SMTP messenger writes them one after another, so no per-recipient copy of the whole message is made.
   */
  raw: Buffer | string | readonly Buffer[];
  messageId: string;
  /**
   * `raw` is already CRLF-normalised and dot-stuffed (smtp-wire `dotStuff`, done once per variant), so an SMTP
   * messenger writes it as is. Messengers that store messages undo it with smtp-wire `unStuff`.
   */
  dotStuffed?: boolean;
  /**
   * The wire journal's hook: called once, synchronously, just before the message body is handed to the connection
   * (for SMTP: once DATA is answered 354). Until then nothing of the message can have reached the server, so a crash
   * before it leaves a message that was certainly not sent. If it throws, the message is not sent.
   */
  onWire?: () => void;
}

export interface SendResult {
  accepted: string[];
  rejected: string[];
  /** The server's final reply, e.g. "250 2.0.0 Ok: queued as X". */
  response: string;
  messageId: string;
  /**
   * Why each address in `rejected` was refused, from its RCPT reply. Present when a send reached some
   * recipients and not others; a send that reaches nobody throws instead (see classify.ts).
   */
  rejectedErrors?: { recipient: string; error: SendError }[];
}

export const SendFailure = z.enum(['temporary', 'permanent']);
export type SendFailure = z.infer<typeof SendFailure>;

/** A send that did not succeed. `temporary` (4xx, connection lost) is retried; `permanent` (5xx) is not. */
export class SendError extends Error {
  constructor(
    message: string,
    public readonly failure: SendFailure,
    public readonly responseCode?: number,
    /** Enhanced status code such as "5.1.1" when the server gave one. */
    public readonly enhancedCode?: string,
    public readonly response?: string,
    /** The transport's own code (nodemailer's ECONNECTION, ESOCKET, ETIMEDOUT, EENVELOPE...), for logs. */
    public readonly code?: string,
    /**
     * No session could be set up (connection refused or timed out, greeting or EHLO refused): the server's state,
     * not the message's. Nothing was sent, so it can never be a duplicate, and it spends no attempt.
     */
    public readonly unreachable = false,
  ) {
    super(message);
    this.name = 'SendError';
  }
  /** A server's permanent refusal that means the address is gone (5.1.1, 5.2.1...; src/mail/bounce-report.ts decides). */
  get hardBounce(): boolean {
    if (this.failure !== 'permanent' || this.responseCode === undefined) return false;
    return bounceSeverity(this.enhancedCode ?? null, { replyCode: this.responseCode, diagnostic: this.response ?? null }) === 'hard';
  }
}

/** How a message leaves paperboy. Implementations: embedded outbox, pooled SMTP, pipelining SMTP. */
export interface Messenger {
  readonly name: string;
  send(msg: OutgoingMessage): Promise<SendResult>;
  sendRaw(msg: RawMessage): Promise<SendResult>;
  close(): Promise<void>;
}

/** nodemailer's message options for an OutgoingMessage: the one mapping every transport composes from. */
export function mailOptions(msg: OutgoingMessage, defaultFrom: string | undefined) {
  return {
    from: msg.from ?? defaultFrom,
    to: msg.to,
    subject: msg.subject,
    html: msg.html,
    text: msg.text,
    headers: msg.headers,
    messageId: msg.messageId,
  };
}
