//! Sending mail over SMTP: the standard library's `smtplib` connects in the
//! constructor when given a host
//! (<https://docs.python.org/3/library/smtplib.html>), and python-emails'
//! `Message.send(smtp=…)` opens an SMTP connection and sends
//! (<https://python-emails.readthedocs.io/en/latest/>). Both block on the
//! mail server.

use super::{Effect::Blocking, IoKind::Socket, ObjKind::MailMessage, Pack, ctor, func, method};

const SMTP: super::Effect = Blocking(Socket);
const MESSAGE: &[super::ObjKind] = &[MailMessage];

pub const PACK: Pack = Pack {
    name: "mail",
    roots: &["smtplib", "emails"],
    funcs: &[
        func("smtplib.SMTP", SMTP),
        func("smtplib.SMTP_SSL", SMTP),
        func("smtplib.LMTP", SMTP),
        ctor("emails.Message", MailMessage),
        ctor("emails.message.Message", MailMessage),
        ctor("emails.html", MailMessage),
        ctor("emails.text", MailMessage),
    ],
    types: &[("emails.message.Message", MailMessage)],
    methods: &[method(MESSAGE, "send", SMTP)],
    hints: &[],
    attributes: &[],
};
