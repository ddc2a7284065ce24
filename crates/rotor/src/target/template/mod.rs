//! The template target: a whole file (a `docker-compose.yml`, a
//! `redis.conf` include) rendered from a template whose placeholders say
//! where the values go. Every byte outside the placeholders is the
//! template's, so the file belongs to this target alone: a file that
//! differs from its template elsewhere was edited by hand, and rotor
//! refuses to overwrite it. The template's text is parsed in `text`.

pub mod text;

use zeroize::Zeroizing;

pub use text::{Slot, Template, TemplateError};

use crate::inventory::TemplateTarget;
use crate::secret::SecretValue;
use crate::target::{Desired, Target, TargetError, WHOLE_FILE};
use text::{Captured, Mismatch, Values};

/// Why a rendered file cannot be read or written (never quotes a value).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The file differs from its template outside the placeholders.
    #[error("line {line} differs from its template {template}; edit the template, not the file (rotor writes the whole file from the template). To apply a changed template, move the file aside and rotate with --create-missing")]
    Differs {
        /// 1-based line of the file.
        line: usize,
        /// The template's path.
        template: String,
    },
    /// A placeholder that appears several times holds different values.
    #[error("{{{{{slot}}}}} holds different values on lines {first} and {line}, though its template {template} puts one value there; edit the template, not the file")]
    Disagree {
        /// The placeholder's name.
        slot: &'static str,
        /// The line of its first value.
        first: usize,
        /// The line of the value that differs.
        line: usize,
        /// The template's path.
        template: String,
    },
    /// A placeholder holds bytes that are not UTF-8 text.
    #[error("line {line} holds a value that is not UTF-8 text where its template {template} has a placeholder")]
    NotText {
        /// 1-based line of the file.
        line: usize,
        /// The template's path.
        template: String,
    },
    /// A value to write holds a line break, which would shift the file's
    /// lines against the template's.
    #[error("the value for {{{{{slot}}}}} holds a line break; a template target writes values on one line")]
    LineBreak {
        /// The placeholder's name.
        slot: &'static str,
    },
    /// What rotor would write does not read back as the values written:
    /// the text after a placeholder can also occur in the value.
    #[error("the value written at {{{{{slot}}}}} (line {line} of {template}) would not read back: the text right after the placeholder can occur in the value. End the placeholder with a character the generator cannot produce (a quote, or the end of the line)")]
    Ambiguous {
        /// The placeholder's name.
        slot: &'static str,
        /// Its first line in the template.
        line: usize,
        /// The template's path.
        template: String,
    },
}

impl TemplateTarget {
    fn template_name(&self) -> String {
        self.template_path.display().to_string()
    }

    /// The values `file` holds; an empty file (or none yet) holds none.
    fn captured<'f>(&self, file: &'f [u8]) -> Result<Option<Captured<'f>>, RenderError> {
        if file.is_empty() {
            return Ok(None);
        }
        let template = self.template_name();
        self.template.read(file).map(Some).map_err(|m| match m {
            Mismatch::Differs(line) => RenderError::Differs { line, template },
            Mismatch::Disagree { slot, first, line } => RenderError::Disagree {
                slot: slot.name(),
                first,
                line,
                template,
            },
            Mismatch::NotText(line) => RenderError::NotText { line, template },
        })
    }

    /// The value at `slot` in `file`, `None` when empty or absent.
    fn value(&self, file: &[u8], slot: Slot) -> Result<Option<SecretValue>, TargetError> {
        let Some(c) = self.captured(file)? else {
            return Ok(None);
        };
        Ok(c.get(slot)
            .filter(|v| !v.is_empty())
            .map(|v| SecretValue::new(String::from_utf8_lossy(v).into_owned())))
    }
}

impl Target for TemplateTarget {
    fn path(&self) -> &std::path::Path {
        &self.path
    }

    fn describe(&self) -> String {
        format!(
            "{} (from template {})",
            self.path.display(),
            self.template_path.display()
        )
    }

    /// The whole file: no other target may write it.
    fn keys(&self) -> Vec<String> {
        vec![WHOLE_FILE.to_owned()]
    }

    fn mode(&self) -> u32 {
        self.mode
    }

    fn current(&self, file: &[u8]) -> Result<Option<SecretValue>, TargetError> {
        self.value(file, Slot::Current)
    }

    fn previous(&self, file: &[u8]) -> Result<Option<SecretValue>, TargetError> {
        self.value(file, Slot::Previous)
    }

    fn holds_previous(&self) -> bool {
        self.template.uses(Slot::Previous)
    }

    fn describe_previous(&self) -> String {
        format!(
            "{} {{{{previous}}}} (from template {})",
            self.path.display(),
            self.template_path.display()
        )
    }

    fn current_user(&self, file: &[u8]) -> Result<Option<String>, TargetError> {
        Ok(self.value(file, Slot::User)?.map(|u| u.expose().to_owned()))
    }

    /// The template with `desired` filled in. A file that is not empty must
    /// match the template outside the placeholders (else it was edited by
    /// hand, and those edits would be lost). `desired.user` of `None` keeps
    /// the login the file holds.
    fn render(&self, file: &[u8], desired: Desired<'_>) -> Result<Zeroizing<Vec<u8>>, TargetError> {
        let held = self.captured(file)?;
        let kept_user = held.as_ref().and_then(|c| c.user).unwrap_or_default();
        let kept_user = String::from_utf8_lossy(kept_user);
        let values = Values {
            current: desired.current.expose(),
            previous: desired.previous.map_or("", |p| p.expose()),
            user: desired.user.unwrap_or(&kept_user),
        };
        const SLOTS: [Slot; 3] = [Slot::Current, Slot::Previous, Slot::User];
        for slot in SLOTS {
            if self.template.uses(slot) && values.get(slot).contains(['\n', '\r']) {
                return Err(RenderError::LineBreak { slot: slot.name() }.into());
            }
        }
        let out = self.template.render(&values);
        // What is written must read back as what was meant.
        let back = self.captured(&out)?.unwrap_or_default();
        for slot in SLOTS {
            if back
                .get(slot)
                .is_some_and(|v| v != values.get(slot).as_bytes())
            {
                return Err(RenderError::Ambiguous {
                    slot: slot.name(),
                    line: self.template.first_line(slot).unwrap_or(0),
                    template: self.template_name(),
                }
                .into());
            }
        }
        Ok(out)
    }

    /// The whole file is this target's: undo gives `before` back.
    fn restore(&self, _now: &[u8], before: &[u8]) -> Result<Zeroizing<Vec<u8>>, TargetError> {
        Ok(Zeroizing::new(before.to_vec()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "tests.rs"]
mod tests;
