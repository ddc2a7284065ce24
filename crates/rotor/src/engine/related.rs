//! `related` outside incident mode: a secret's related secrets are not
//! rotated with it implicitly. `plan` and `rotate` name the related secrets
//! a selection leaves out, so the operator can add them on purpose
//! (incident mode rotates the whole closure).

use crate::inventory::SecretSpec;

/// For each selected secret that has related secrets outside the
/// selection: its name and those secrets, in inventory order of the
/// selection.
pub fn left_out(selected: &[&SecretSpec]) -> Vec<(String, Vec<String>)> {
    let names: std::collections::HashSet<&str> = selected.iter().map(|s| s.name.as_str()).collect();
    selected
        .iter()
        .filter_map(|s| {
            let out: Vec<String> = s
                .related
                .iter()
                .filter(|r| !names.contains(r.as_str()))
                .cloned()
                .collect();
            (!out.is_empty()).then(|| (s.name.clone(), out))
        })
        .collect()
}

/// The warning for one secret's left-out related secrets.
pub fn warning(name: &str, related: &[String]) -> String {
    format!(
        "{name} is related to {} (not selected): outside incident mode related secrets are not rotated with it; add {} to rotate them together",
        related.join(", "),
        if related.len() == 1 { "it" } else { "them" }
    )
}
