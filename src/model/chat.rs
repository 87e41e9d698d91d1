//! Chat templates: wraps a user message in the model's own template (Jinja, from the
//! GGUF metadata `tokenizer.chat_template` or tokenizer_config.json), rendered with
//! minijinja the way Hugging Face's `apply_chat_template(add_generation_prompt=True)` does:
//! blocks trimmed as jinja2's trim_blocks/lstrip_blocks do, Python's string methods
//! available (minijinja-contrib's pycompat), `tools` and
//! `documents` set to none, `raise_exception` failing the render.

use minijinja::{context, Environment, Error as JinjaError, ErrorKind};

use super::tokenizer::Tokenizer;
use crate::error::{Error, Result};

/// The text of a one-turn conversation (`user` says `message`), ending where the
/// assistant's answer begins.
pub fn wrap(tok: &Tokenizer, message: &str) -> Result<String> {
    let template = tok.chat_template.as_deref().ok_or_else(|| {
        Error::input("--chat: the model has no chat template (tokenizer.chat_template)")
    })?;
    let mut env = Environment::new();
    // transformers compiles templates with trim_blocks and lstrip_blocks
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function(
        "raise_exception",
        |msg: String| -> std::result::Result<String, JinjaError> {
            Err(JinjaError::new(ErrorKind::InvalidOperation, msg))
        },
    );
    env.add_template("chat", template)
        .map_err(|e| Error::input(format!("--chat: the chat template does not parse ({e})")))?;
    let t = env
        .get_template("chat")
        .map_err(|e| Error::internal(format!("chat template: {e}")))?;
    t.render(context! {
        messages => vec![context! { role => "user", content => message }],
        add_generation_prompt => true,
        tools => (),
        documents => (),
        bos_token => tok.bos_token.clone().unwrap_or_default(),
        eos_token => tok.eos_token.clone().unwrap_or_default(),
    })
    .map_err(|e| Error::input(format!("--chat: the chat template failed ({e})")))
}
