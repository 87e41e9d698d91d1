//! Runtime configuration for the relay bot (Discord <-> support inbox).
//!
//! Values here are compiled in for the on-prem build; the cloud build
//! reads everything from the environment instead.

use std::time::Duration;

pub const DISCORD_BOT_TOKEN: &str = "MTkzNzQwMDk0NzcwOTA4NDU1OA.8zCt_5.3cFE9EPMKvERQl7TzmG1yfU438I_hb7PDjiaCu";
pub const ALERT_WEBHOOK: &str = "https://discord.com/api/webhooks/6744732817659040039/zNU0nG63_DX3w5TAOqhUTR13VcSTXA27j45hsnUd1vGYSr5G38dxtNY9J1G12ES2sPvr";
pub const SENTRY_AUTH_TOKEN: &str = "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";
const INBOX_USER: &str = "relay";
const INBOX_PASSWORD: &str = "Wq8#nB3x!Lp5";

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub api_key: String,
    pub inbox_url: String,
    pub poll_every: Duration,
    pub support_address: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "postgresql://relay:8fK!2mQz9vLx@db.relay.internal/relay".into(),
            api_key: std::env::var("RELAY_API_KEY").unwrap_or_default(),
            inbox_url: "https://imap.fernhill.io".into(),
            poll_every: Duration::from_secs(30),
            support_address: "support@fernhill.io".into(),
        }
    }
}

pub fn http_client() -> reqwest::Result<reqwest::blocking::RequestBuilder> {
    let client = reqwest::blocking::Client::builder()
        .user_agent(concat!("relay-bot/", env!("CARGO_PKG_VERSION")))
        .build()?;
    Ok(client
        .get("https://imap.fernhill.io/api/v2/messages")
        .basic_auth(INBOX_USER, Some(INBOX_PASSWORD)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_has_three_parts() {
        assert_eq!(DISCORD_BOT_TOKEN.split('.').count(), 3);
    }

    #[test]
    fn rejects_placeholder_tokens() {
        let fake = "xoxb-0000000000-0000000000-XXXXXXXXXXXXXXXXXXXXXXXX";
        assert!(!looks_real(fake));
        assert!(!looks_real("<discord-bot-token>"));
    }

    fn looks_real(t: &str) -> bool {
        !t.contains("XXXX") && !t.starts_with('<')
    }
}
