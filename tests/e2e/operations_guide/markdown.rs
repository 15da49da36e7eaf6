//! The operations guide as the runner reads it: its fenced blocks with their tags and
//! line numbers, the command lines of a block and the `fieldkit`/`fieldkit-backend` calls
//! in command position (for the parse check of `sh-package` blocks), and the metric
//! names its text mentions. Reading only; running is `super`'s.

/// One fenced block of the guide.
#[derive(Debug, Clone)]
pub(super) struct Block {
    /// 1-based line of the opening fence.
    pub(super) line: usize,
    /// The heading it stands under.
    pub(super) section: String,
    /// The first word of the info string (`sh`, `sh-package`, `toml`, …).
    pub(super) lang: String,
    /// The further words.
    pub(super) attrs: Vec<String>,
    /// The content, with the fence's indentation removed.
    pub(super) body: String,
}

/// The fenced blocks of a Markdown text. A fence is a line whose first non-blank
/// characters are exactly three backticks (four open inline code, as in ```` ```sh ````).
pub(super) fn blocks(markdown: &str) -> Result<Vec<Block>, String> {
    let mut out = Vec::new();
    let mut section = String::from("(top)");
    let mut lines = markdown.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') && !trimmed.starts_with("#!") {
            section = trimmed.trim_start_matches('#').trim().to_owned();
            continue;
        }
        let Some(info) = trimmed.strip_prefix("```") else {
            continue;
        };
        if info.starts_with('`') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let mut words = info.split_whitespace().map(str::to_owned);
        let Some(lang) = words.next() else {
            return Err(format!(
                "line {}: a code block without a language; tag it sh, sh-package, toml, text, …",
                i + 1
            ));
        };
        let attrs: Vec<String> = words.collect();
        let mut body = String::new();
        let mut closed = false;
        for (_, l) in lines.by_ref() {
            if l.trim() == "```" {
                closed = true;
                break;
            }
            let cut = l.len() - l.trim_start().len();
            body.push_str(&l[cut.min(indent)..]);
            body.push('\n');
        }
        if !closed {
            return Err(format!("line {}: the code block is never closed", i + 1));
        }
        out.push(Block {
            line: i + 1,
            section: section.clone(),
            lang,
            attrs,
            body,
        });
    }
    Ok(out)
}

/// Logical command lines of a shell block: continuation lines joined, comments and blank
/// lines dropped.
pub(super) fn command_lines(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in body.lines() {
        let t = line.trim();
        if current.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        if let Some(head) = t.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
        } else {
            current.push_str(t);
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The `fieldkit-backend …` / `fieldkit …` invocations of a shell line that are in
/// command position (after `sudo`, `env` and `VAR=value` words), from the program name
/// to the end of their pipeline segment, without redirections.
pub(super) fn fieldkit_calls(line: &str) -> Vec<String> {
    let mut calls = Vec::new();
    let mut rest = line;
    loop {
        let (segment, next) = split_segment(rest);
        let mut call = None;
        for (at, word) in shell_words(segment) {
            let program = word.rsplit('/').next().unwrap_or(word);
            if program == "fieldkit-backend" || program == "fieldkit" {
                call = Some(segment[at..].to_owned());
                break;
            }
            let is_assignment = word.split_once('=').is_some_and(|(name, _)| {
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            });
            if !(is_assignment || word == "sudo" || word == "env" || word == "exec") {
                break;
            }
        }
        if let Some(call) = call {
            let cut = [" >", " 2>", " <", " &>"]
                .iter()
                .filter_map(|r| call.find(r))
                .min()
                .unwrap_or(call.len());
            calls.push(call[..cut].trim().to_owned());
        }
        match next {
            Some(n) => rest = n,
            None => return calls,
        }
    }
}

/// The words of a shell text with their byte offsets; quotes keep blanks inside a word.
fn shell_words(s: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let (mut single, mut double) = (false, false);
    let mut start = None;
    for (i, c) in s.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            c if c.is_whitespace() && !single && !double => {
                if let Some(st) = start.take() {
                    words.push((st, &s[st..i]));
                }
                continue;
            }
            _ => {}
        }
        if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        words.push((st, &s[st..]));
    }
    words
}

/// The text up to the first `&&`, `||`, `;` or `|` outside quotes, and what follows.
fn split_segment(s: &str) -> (&str, Option<&str>) {
    let bytes = s.as_bytes();
    let (mut single, mut double) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'&' | b'|' if !single && !double && bytes.get(i + 1) == Some(&bytes[i]) => {
                return (&s[..i], Some(&s[i + 2..]));
            }
            b';' | b'|' if !single && !double => return (&s[..i], Some(&s[i + 1..])),
            _ => {}
        }
        i += 1;
    }
    (s, None)
}

/// Metric names the guide mentions: `fieldkit_` + `[a-z0-9_]+`, not part of a longer
/// word.
pub(super) fn metric_names(markdown: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let bytes = markdown.as_bytes();
    let mut from = 0;
    while let Some(p) = markdown[from..].find("fieldkit_") {
        let at = from + p;
        from = at + "fieldkit_".len();
        let before = at.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b"_-./".contains(&b)) {
            continue;
        }
        let rest: String = markdown[from..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if rest.is_empty() {
            continue;
        }
        let name = format!("fieldkit_{rest}");
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}
