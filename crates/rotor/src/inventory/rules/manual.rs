//! Rules for strategy manual and its `[secret.manual]` table: a person
//! makes the value in a provider's portal and gives it to `rotor put`, so
//! such a secret has no generator and no authority, and the table says
//! what to do and what the value must look like.

use toml::Spanned;

use super::*;
use crate::inventory::error::InventoryError;
use crate::inventory::model::*;
use crate::inventory::position::Cx;

/// The generator and the manual table of secret `s`, checked against its
/// strategy. `table` is the span of the secret's `[[secret]]` table.
pub(in crate::inventory) fn convert_manual(
    cx: &Cx<'_>,
    s: &RawSecret,
    strategy: &Strategy,
    table: std::ops::Range<usize>,
) -> Result<(Generator, Option<ManualSpec>), InventoryError> {
    let name = s.name.get_ref().as_str();
    match (strategy.is_provided(), &s.generator, &s.manual) {
        (true, Some(g), _) => Err(cx.err(
            g.span(),
            Some(name),
            "strategy manual takes its values from a person (`rotor put`), so it has no generator; remove generator",
        )),
        (true, None, m) => {
            let spec = match m {
                Some(m) => manual_table(cx, name, m)?,
                None => ManualSpec::default(),
            };
            Ok((Generator::Provided, Some(spec)))
        }
        (false, _, Some(m)) => Err(cx.err(
            m.span(),
            Some(name),
            "[secret.manual] belongs to strategy = { kind = \"manual\" }; rotor generates this secret's values, so remove it (or make the strategy manual)",
        )),
        (false, Some(g), None) => Ok((convert_generator(cx, name, g)?, None)),
        // A plugin may mint the value itself; if it does not, the rotation
        // stops before anything changes (see authority/exec).
        (false, None, None)
            if s
                .authority
                .as_ref()
                .is_some_and(|a| a.get_ref().kind.get_ref() == "exec") =>
        {
            Ok((Generator::Minted, None))
        }
        (false, None, None) => Err(cx.err(
            table,
            Some(name),
            "missing field `generator`: say how values are made, e.g. generator = { kind = \"random\", bytes = 32 }, or strategy = { kind = \"manual\" } when a person makes them in a provider's portal",
        )),
    }
}

fn manual_table(
    cx: &Cx<'_>,
    name: &str,
    m: &Spanned<RawManual>,
) -> Result<ManualSpec, InventoryError> {
    let raw = m.get_ref();
    let defaults = ValueRules::default();
    let length = |v: &Option<Spanned<RawInt>>, key: &str, default: usize| match v {
        None => Ok(default),
        Some(n) => match usize::try_from(n.get_ref().0) {
            Ok(n) if (1..=65536).contains(&n) => Ok(n),
            _ => Err(cx.err(
                n.span(),
                Some(name),
                format!("{key} must be a whole number from 1 to 65536"),
            )),
        },
    };
    let min_length = length(&raw.min_length, "min_length", defaults.min_length)?;
    let max_length = length(&raw.max_length, "max_length", defaults.max_length)?;
    if min_length > max_length {
        return Err(cx.err(
            m.span(),
            Some(name),
            format!("min_length {min_length} is larger than max_length {max_length}"),
        ));
    }
    let charset = match &raw.charset {
        None => None,
        Some(c) => Some(match c.get_ref().as_str() {
            "alnum" => Charset::Alnum,
            "urlsafe" => Charset::UrlSafe,
            "hex" => Charset::Hex,
            "base64" => Charset::Base64,
            other => {
                return Err(cx.err(
                    c.span(),
                    Some(name),
                    format!("charset \"{other}\" is not known; expected \"alnum\", \"urlsafe\", \"hex\" or \"base64\" (leave it out for any visible ASCII)"),
                ))
            }
        }),
    };
    if let Some(p) = &raw.prefix {
        if p.chars().any(|c| !c.is_ascii_graphic()) {
            return Err(cx.err(
                m.span(),
                Some(name),
                "prefix holds a space or a character that is not visible ASCII",
            ));
        }
    }
    Ok(ManualSpec {
        portal: raw.portal.clone(),
        steps: raw.steps.clone(),
        approver: raw.approver.clone(),
        rules: ValueRules {
            min_length,
            max_length,
            charset,
            prefix: raw.prefix.clone(),
        },
    })
}
