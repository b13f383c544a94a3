//! The glob patterns of skaffold.yaml and .dockerignore, matched by `globset`: `/`-separated,
//! `*` and `?` within one path segment, `[…]` a class, `**` for any number of segments.

use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};

/// `pattern` compiled; a leading `./` or `/` and empty segments are dropped, as the tools do.
pub fn matcher(pattern: &str) -> Result<GlobMatcher, String> {
    let normalized = segments(pattern).join("/");
    GlobBuilder::new(&normalized)
        .literal_separator(true)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|e| format!("glob {pattern:?}: {e}"))
}

/// Whether `path` (relative, `/`-separated) matches `pattern`.
pub fn matches(pattern: &str, path: &str) -> Result<bool, String> {
    Ok(matcher(pattern)?.is_match(segments(path).join("/")))
}

fn segments(text: &str) -> Vec<&str> {
    text.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect()
}

/// The files under `base` whose path relative to `base` matches `pattern`, sorted. Only the
/// directory named by the pattern's literal leading segments is walked.
pub fn expand(base: &Path, pattern: &str) -> Result<Vec<String>, String> {
    let glob = matcher(pattern)?;
    let literal: Vec<&str> = segments(pattern)
        .into_iter()
        .take_while(|s| !s.contains(['*', '?', '[', '{']))
        .collect();
    let start = literal.join("/");
    let mut files = Vec::new();
    let root = base.join(&start);
    if root.is_file() {
        files.push(start.clone());
    } else if root.is_dir() {
        walk(&root, &start, &mut files)?;
    }
    files.retain(|f| glob.is_match(f));
    files.sort();
    Ok(files)
}

fn walk(dir: &Path, relative: &str, out: &mut Vec<String>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = if relative.is_empty() {
            name
        } else {
            format!("{relative}/{name}")
        };
        let kind = entry.file_type().map_err(|e| format!("{child}: {e}"))?;
        if kind.is_dir() {
            walk(&entry.path(), &child, out)?;
        } else {
            out.push(child);
        }
    }
    Ok(())
}
