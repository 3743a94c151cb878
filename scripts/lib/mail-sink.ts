import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface MailSink {
  port: number;
  messages: ParsedMail[];
  close(): Promise<void>;
}

/** A real SMTP server that accepts everything: mail is parsed, kept in memory and, with a dir, saved as .eml. */
export async function startMailSink(options: { port: number; dir?: string; onMail?: (mail: ParsedMail) => void }) {
  const messages: ParsedMail[] = [];
  if (options.dir) mkdirSync(options.dir, { recursive: true });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((mail) => {
            messages.push(mail);
            if (options.dir) writeFileSync(path.join(options.dir, `${Date.now()}-${messages.length}.eml`), raw);
            options.onMail?.(mail);
            callback();
          })
          .catch(callback);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  } satisfies MailSink;
}
