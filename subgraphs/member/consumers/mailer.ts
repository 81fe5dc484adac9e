// Where confirmation emails go: SMTP (nodemailer) when SMTP_URL is set, otherwise a local mailbox
// collection that tests and developers can read back through the graph (`Member.emails`).
import nodemailer from 'nodemailer';

export interface OutgoingEmail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

export interface Mailer {
  readonly transport: 'smtp' | 'mailbox';
  /** Deliver; resolves once the server accepted it (no-op for the mailbox: the record is the delivery). */
  send(email: OutgoingEmail): Promise<void>;
  close(): Promise<void>;
}

export function createMailer(smtpUrl: string | undefined, from: string): Mailer {
  if (!smtpUrl) return { transport: 'mailbox', send: async () => {}, close: async () => {} };
  const transporter = nodemailer.createTransport(smtpUrl);
  return {
    transport: 'smtp',
    send: async (email) => {
      await transporter.sendMail({ from, to: email.to, subject: email.subject, text: email.text });
    },
    close: async () => {
      transporter.close();
    },
  };
}
