//! Go template text as `tpl` receives it from values (Helm's charts pass
//! user settings through `tpl`, so users write `{{ .Release.Name }}` there),
//! translated into the engine's syntax over the chart's own functions.
//!
//! The translation covers what values hold in practice: text, comments and
//! trim markers; fields of `.`, `$` and variables; literals; pipelines and
//! parentheses; Go's built-in comparisons and logic; the chart's Sprig
//! functions; `if`/`else if`/`else`, `with`, `range` with its variables,
//! `break` and `continue`. Anything else (`define`, `template`, `include`,
//! assignment to an outer variable, ...) is refused by name, never guessed.
//!
//! The translated template sees two names: `__dot` (Go's `.`, rebound by
//! `with` and `range`) and `__root` (Go's `$`).

/// Deepest nesting of parentheses and blocks a translation accepts.
const MAX_DEPTH: usize = 64;

/// How a Sprig function's Go arguments map onto the chart's function of the
/// same name.
#[derive(Clone, Copy, PartialEq)]
enum Order {
    /// The same arguments in the same order.
    Same,
    /// Go's last argument (the piped one) comes first.
    SubjectFirst,
}

/// The Sprig and Helm functions a value's template may call.
fn function(name: &str) -> Option<Order> {
    use Order::*;
    Some(match name {
        "indent" | "nindent" | "default" | "trunc" | "trimSuffix" | "trimPrefix" | "trimAll"
        | "replace" | "contains" | "hasPrefix" | "hasSuffix" | "splitList" | "join" | "ternary" => {
            SubjectFirst
        }
        "toYaml" | "toJson" | "toPrettyJson" | "fromYaml" | "fromJson" | "quote" | "squote"
        | "b64enc" | "b64dec" | "sha256sum" | "trim" | "lower" | "upper" | "title" | "hasKey"
        | "merge" | "mergeOverwrite" | "int" | "int64" | "float64" | "toString" | "kindOf"
        | "typeOf" | "keys" | "pick" | "omit" | "uniq" | "compact" | "sortAlpha" | "toStrings"
        | "nospace" | "first" | "last" | "empty" | "get" | "required" | "fail"
        | "semverCompare" | "regexMatch" | "regexReplaceAll" | "regexFind" | "kindIs"
        | "coalesce" | "printf" | "print" | "tpl" | "dict" | "list" | "until" | "dig" | "index"
        | "urlJoin" | "add" | "sub" | "mul" | "div" | "max" | "min" | "cat" | "add1" | "mod"
        | "atoi" => Same,
        "repeat" | "substr" => SubjectFirst,
        _ => return None,
    })
}

/// Why a function Helm has is refused here, where that is not just "not
/// defined": its result changes from one render to the next.
fn undefined(name: &str) -> String {
    const CHANGING: &[&str] = &[
        "now",
        "date",
        "dateInZone",
        "date_in_zone",
        "unixEpoch",
        "uuidv4",
        "randAlpha",
        "randAlphaNum",
        "randNumeric",
        "randAscii",
        "randBytes",
        "randInt",
        "shuffle",
        "htpasswd",
        "bcrypt",
        "genPrivateKey",
        "genCA",
        "genSelfSignedCert",
        "genSignedCert",
        "getHostByName",
    ];
    if CHANGING.contains(&name) {
        format!(
            "function \"{name}\" is not supported: its result changes from one render to the next, \
             and this tool's output does not"
        )
    } else {
        format!("function \"{name}\" not defined")
    }
}

/// A translated template.
#[derive(Debug)]
pub struct Translated {
    /// The template in the engine's syntax.
    pub source: String,
    /// Whether it calls named templates (`include`, `template`), which it
    /// finds in `__h` by the names in `__names`.
    pub includes: bool,
}

/// Translates Go template `src`; the error says what was refused.
pub fn translate(src: &str) -> Result<Translated, String> {
    let mut t = Translator::default();
    let mut rest = src;
    let mut trim_next = false;
    while let Some(open) = rest.find("{{") {
        let mut text = &rest[..open];
        if trim_next {
            text = text.trim_start_matches(is_space);
        }
        let after = &rest[open + 2..];
        let trim_before = after.starts_with('-') && after[1..].starts_with(is_space);
        if trim_before {
            text = text.trim_end_matches(is_space);
        }
        t.text(text);
        let body_start = if trim_before { 2 } else { 0 };
        let (body, close_len, trim_after) = action_body(&after[body_start..])?;
        trim_next = trim_after;
        t.action(body.trim_matches(is_space))?;
        rest = &after[body_start + body.len() + close_len..];
    }
    t.text(if trim_next {
        rest.trim_start_matches(is_space)
    } else {
        rest
    });
    if let Some(open) = t.blocks.last() {
        return Err(format!(
            "unexpected EOF: {{{{ {open} }}}} has no {{{{ end }}}}"
        ));
    }
    let includes = t.out.contains(INCLUDE_MARK);
    Ok(Translated {
        source: t.out,
        includes,
    })
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// The action up to its `}}` (quotes and comments respected): its body, the
/// length of the closing (` -}}` or `}}`), and whether it trims after.
fn action_body(s: &str) -> Result<(&str, usize, bool), String> {
    let b = s.as_bytes();
    let mut i = 0;
    if s.trim_start_matches(is_space).starts_with("/*") {
        let end = s.find("*/").ok_or("unclosed comment")?;
        i = end + 2;
    }
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' => i = skip_quoted(b, i)?,
            b'`' => {
                i += 1 + s[i + 1..]
                    .find('`')
                    .ok_or("unterminated raw quoted string")?;
                i += 1;
            }
            b'}' if b.get(i + 1) == Some(&b'}') => {
                let trimmed = i >= 2 && b[i - 1] == b'-' && is_space(b[i - 2] as char);
                return Ok(if trimmed {
                    (&s[..i - 2], 4, true)
                } else {
                    (&s[..i], 2, false)
                });
            }
            _ => i += 1,
        }
    }
    Err("unclosed action".into())
}

fn skip_quoted(b: &[u8], start: usize) -> Result<usize, String> {
    let q = b[start];
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'\n' => break,
            c if c == q => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err("unterminated quoted string".into())
}

#[derive(Default)]
struct Translator {
    out: String,
    /// Open blocks, innermost last: "if", "with", "range".
    blocks: Vec<&'static str>,
    /// Names for `with` values.
    temps: usize,
}

impl Translator {
    fn text(&mut self, text: &str) {
        if !text.is_empty() {
            self.out.push_str("{{ ");
            self.out.push_str(&string_literal(text));
            self.out.push_str(" }}");
        }
    }

    fn action(&mut self, body: &str) -> Result<(), String> {
        if body.starts_with("/*") {
            return if body.ends_with("*/") {
                Ok(())
            } else {
                Err("comment ends before closing delimiter".into())
            };
        }
        let toks = lex(body)?;
        let (word, args) = match toks.first() {
            Some(Tok::Ident(w)) => (w.as_str(), &toks[1..]),
            _ => ("", &toks[..]),
        };
        match word {
            "if" => {
                let c = self.expr_pipeline(args)?;
                self.open("if")?;
                self.out.push_str(&format!("{{% if {c} %}}"));
            }
            "else" => self.else_branch(args)?,
            "end" => {
                if !args.is_empty() {
                    return Err("unexpected words after end".into());
                }
                let close = match self.blocks.pop() {
                    Some("if") => "{% endif %}",
                    Some("with") => "{% endwith %}{% endif %}",
                    Some("range") => "{% endwith %}{% endfor %}",
                    Some("range-else") => "{% endfor %}",
                    Some("with-else") => "{% endif %}",
                    _ => return Err("unexpected {{end}}".into()),
                };
                self.out.push_str(close);
            }
            "with" => {
                let v = self.expr_pipeline(args)?;
                self.temps += 1;
                let t = format!("__with{}", self.temps);
                self.open("with")?;
                self.out.push_str(&format!(
                    "{{% set {t} = {v} %}}{{% if {t} %}}{{% with __dot = {t} %}}"
                ));
            }
            "range" => self.range(args)?,
            "break" | "continue" if args.is_empty() => {
                if !self.blocks.iter().any(|b| b.starts_with("range")) {
                    return Err(format!("{{{{{word}}}}} outside {{{{range}}}}"));
                }
                self.out.push_str(&format!("{{% {word} %}}"));
            }
            "template" => {
                let (tname, arg) = match args {
                    [Tok::Str(n)] => (n, "none".to_string()),
                    [Tok::Str(n), rest @ ..] => (n, self.expr_pipeline(rest)?),
                    _ => return Err("template name must be a string".into()),
                };
                let call = include(&string_literal(tname), &arg);
                self.out.push_str(&format!("{{{{ {call} | go_value }}}}"));
            }
            "define" | "block" => {
                return Err(format!(
                    "`{word}` of a named template is not supported in a value's template"
                ))
            }
            _ => self.output_or_declare(&toks)?,
        }
        Ok(())
    }

    fn open(&mut self, block: &'static str) -> Result<(), String> {
        if self.blocks.len() >= MAX_DEPTH {
            return Err("blocks nested too deep".into());
        }
        self.blocks.push(block);
        Ok(())
    }

    fn else_branch(&mut self, args: &[Tok]) -> Result<(), String> {
        let top = self.blocks.last().copied();
        match (top, args.first()) {
            (Some("if"), None) => self.out.push_str("{% else %}"),
            (Some("if"), Some(Tok::Ident(w))) if w == "if" => {
                let c = self.expr_pipeline(&args[1..])?;
                self.out.push_str(&format!("{{% elif {c} %}}"));
            }
            (Some("with"), None) => {
                self.blocks.pop();
                self.blocks.push("with-else");
                self.out.push_str("{% endwith %}{% else %}");
            }
            (Some("range"), None) => {
                self.blocks.pop();
                self.blocks.push("range-else");
                self.out.push_str("{% endwith %}{% else %}");
            }
            _ => return Err("unexpected {{else}}".into()),
        }
        Ok(())
    }

    fn range(&mut self, args: &[Tok]) -> Result<(), String> {
        let (vars, pipe) = match args.iter().position(|t| *t == Tok::Declare) {
            Some(at) => (&args[..at], &args[at + 1..]),
            None => (&args[..0], args),
        };
        let names: Vec<String> = vars
            .iter()
            .filter(|t| **t != Tok::Comma)
            .map(|t| match t {
                Tok::Var(v) if !v.is_empty() => Ok(var_name(v)),
                _ => Err("range can only initialize variables".to_string()),
            })
            .collect::<Result<_, _>>()?;
        let (k, v) = match names.as_slice() {
            [] => ("__key".to_string(), "__item".to_string()),
            [v] => ("__key".to_string(), v.clone()),
            [k, v] => (k.clone(), v.clone()),
            _ => return Err("too many declarations in range".into()),
        };
        let over = self.expr_pipeline(pipe)?;
        self.open("range")?;
        self.out.push_str(&format!(
            "{{% for {k}, {v} in {over} | go_range %}}{{% with __dot = {v} %}}"
        ));
        Ok(())
    }

    fn output_or_declare(&mut self, toks: &[Tok]) -> Result<(), String> {
        if let [Tok::Var(v), op, rest @ ..] = toks {
            if !v.is_empty() && (*op == Tok::Declare || *op == Tok::Assign) {
                if *op == Tok::Assign && !self.blocks.is_empty() {
                    return Err(format!(
                        "assigning ${v} inside a block is not supported in a value's template"
                    ));
                }
                let e = self.expr_pipeline(rest)?;
                self.out
                    .push_str(&format!("{{% set {} = {e} %}}", var_name(v)));
                return Ok(());
            }
        }
        let e = self.expr_pipeline(toks)?;
        self.out.push_str(&format!("{{{{ {e} | go_value }}}}"));
        Ok(())
    }

    /// A pipeline: commands joined by `|`, each piping into the next as
    /// its last argument.
    fn expr_pipeline(&self, toks: &[Tok]) -> Result<String, String> {
        self.pipeline(toks, 0)
    }

    fn pipeline(&self, toks: &[Tok], depth: usize) -> Result<String, String> {
        if depth > MAX_DEPTH {
            return Err("expression nested too deep".into());
        }
        if toks.is_empty() {
            return Err("missing value for command".into());
        }
        let mut piped: Option<String> = None;
        for cmd in split_top(toks, &Tok::Pipe) {
            piped = Some(self.command(cmd, piped, depth)?);
        }
        piped.ok_or_else(|| "missing value for command".to_string())
    }

    fn command(&self, toks: &[Tok], piped: Option<String>, depth: usize) -> Result<String, String> {
        let Some(first) = toks.first() else {
            return Err("missing value for command".into());
        };
        if let Tok::Ident(name) = first {
            if !matches!(name.as_str(), "true" | "false" | "nil") {
                let mut args = self.operands(&toks[1..], depth)?;
                args.extend(piped);
                return call(name, args);
            }
        }
        if toks == [Tok::Ident("nil".into())] {
            return Err("nil is not a command".into());
        }
        if piped.is_some() || term_end(toks, 0)? != toks.len() {
            let what = if piped.is_some() {
                "a value"
            } else {
                "an operand"
            };
            return Err(format!(
                "can't give arguments to {what} that is not a function"
            ));
        }
        self.operand(toks, depth)
    }

    /// The operands of a call, each one term (a parenthesised pipeline, a
    /// field chain, a variable or a literal).
    fn operands(&self, toks: &[Tok], depth: usize) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            let end = term_end(toks, i)?;
            out.push(self.operand(&toks[i..end], depth)?);
            i = end;
        }
        Ok(out)
    }

    fn operand(&self, toks: &[Tok], depth: usize) -> Result<String, String> {
        let (base, fields) = match toks.first() {
            Some(Tok::Open) => {
                let close = matching_close(toks, 0)?;
                let inner = self.pipeline(&toks[1..close], depth + 1)?;
                (format!("({inner})"), &toks[close + 1..])
            }
            Some(Tok::Dot) => ("__dot".to_string(), &toks[1..]),
            Some(Tok::Var(v)) if v.is_empty() => ("__root".to_string(), &toks[1..]),
            Some(Tok::Var(v)) => (var_name(v), &toks[1..]),
            Some(Tok::Field(name)) => {
                let n = string_literal(name);
                (format!("(__dot | go_fields({n}))[{n}]"), &toks[1..])
            }
            Some(Tok::Str(s)) if toks.len() == 1 => return Ok(string_literal(s)),
            Some(Tok::Num(n)) if toks.len() == 1 => return Ok(n.clone()),
            Some(Tok::Ident(w)) if toks.len() == 1 => {
                return match w.as_str() {
                    "true" | "false" => Ok(w.clone()),
                    "nil" => Ok("none".into()),
                    _ => Err(undefined(w)),
                }
            }
            _ => return Err("unexpected token in operand".into()),
        };
        let mut e = base;
        for f in fields {
            let Tok::Chain(name) = f else {
                return Err("unexpected token after operand".into());
            };
            let n = string_literal(name);
            e = format!("({e} | go_fields({n}))[{n}]");
        }
        Ok(e)
    }
}

/// A call of Go's built-in or a chart function with Go's arguments.
fn call(name: &str, mut args: Vec<String>) -> Result<String, String> {
    let need = |n: usize| -> Result<(), String> {
        if args.len() < n {
            Err(format!(
                "wrong number of args for {name}: want at least {n} got {}",
                args.len()
            ))
        } else {
            Ok(())
        }
    };
    Ok(match name {
        "and" | "or" => {
            need(1)?;
            format!("({})", args.join(&format!(" {name} ")))
        }
        "include" => {
            let [tname, arg] = args.as_slice() else {
                return Err(format!(
                    "wrong number of args for include: want 2 got {}",
                    args.len()
                ));
            };
            include(tname, arg)
        }
        "not" => {
            need(1)?;
            format!("(not {})", args[0])
        }
        "len" => {
            need(1)?;
            format!("({} | length)", args[0])
        }
        "eq" => {
            need(2)?;
            let first = &args[0];
            let alts: Vec<String> = args[1..]
                .iter()
                .map(|a| format!("{first} == {a}"))
                .collect();
            format!("({})", alts.join(" or "))
        }
        "ne" | "lt" | "le" | "gt" | "ge" => {
            if args.len() != 2 {
                return Err(format!(
                    "wrong number of args for {name}: want 2 got {}",
                    args.len()
                ));
            }
            let op = match name {
                "ne" => "!=",
                "lt" => "<",
                "le" => "<=",
                "gt" => ">",
                _ => ">=",
            };
            format!("({} {op} {})", args[0], args[1])
        }
        _ => match function(name) {
            None => return Err(undefined(name)),
            Some(order) => {
                if order == Order::SubjectFirst && !args.is_empty() {
                    let last = args.pop().unwrap_or_default();
                    args.insert(0, last);
                }
                format!("{name}({})", args.join(", "))
            }
        },
    })
}

/// A call of the named template `name` (an expression) with `arg` as `.`,
/// through the names the chart lets a value's template include.
fn include(name: &str, arg: &str) -> String {
    format!("{INCLUDE_MARK}(__names | go_named({name}))]({arg})")
}

/// How a translation refers to the named templates (text that happens to
/// hold it costs only an unused import).
const INCLUDE_MARK: &str = "__h[";

/// The engine's name for Go's `$name`, one for each: ASCII letters and
/// digits as they are, `_` doubled, any other letter as its code.
fn var_name(v: &str) -> String {
    let mut out = String::from("v_");
    for c in v.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if c == '_' {
            out.push_str("__");
        } else {
            out.push_str(&format!("_u{:x}_", c as u32));
        }
    }
    out
}

/// A string literal in the engine's syntax, which reads JSON's escapes.
pub fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    crate::values::json::write_string(&mut out, s, false);
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Dot,
    /// `.Name`: a field of `.`.
    Field(String),
    /// `.Name` right after a term: that term's field.
    Chain(String),
    /// `$name`; `$` alone is the empty name.
    Var(String),
    Ident(String),
    Str(String),
    /// A number in the engine's syntax.
    Num(String),
    Pipe,
    Open,
    Close,
    Declare,
    Assign,
    Comma,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let b = s.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    let word_end = |from: usize| {
        s[from..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(s.len(), |e| from + e)
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'|' | b'(' | b')' | b',' => {
                toks.push(match c {
                    b'|' => Tok::Pipe,
                    b'(' => Tok::Open,
                    b')' => Tok::Close,
                    _ => Tok::Comma,
                });
                i += 1;
            }
            b':' if b.get(i + 1) == Some(&b'=') => {
                toks.push(Tok::Declare);
                i += 2;
            }
            b'=' => {
                toks.push(Tok::Assign);
                i += 1;
            }
            b'.' if b.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                let end = number_end(b, i);
                toks.push(Tok::Num(number(&s[i..end])?));
                i = end;
            }
            b'.' => {
                let end = word_end(i + 1);
                let name = s[i + 1..end].to_string();
                // Right after a term (no space between) a field reads that
                // term's field: `$x.a`, `(f).a`, `.a.b`.
                let after_term = i > 0
                    && !is_space(b[i - 1] as char)
                    && matches!(
                        toks.last(),
                        Some(Tok::Var(_) | Tok::Field(_) | Tok::Chain(_) | Tok::Close)
                    );
                toks.push(match (end == i + 1, after_term) {
                    (true, _) => Tok::Dot,
                    (false, true) => Tok::Chain(name),
                    (false, false) => Tok::Field(name),
                });
                i = end;
            }
            b'$' => {
                let end = word_end(i + 1);
                toks.push(Tok::Var(s[i + 1..end].to_string()));
                i = end;
            }
            b'"' => {
                let end = skip_quoted(b, i)?;
                toks.push(Tok::Str(unquote(&s[i + 1..end - 1])?));
                i = end;
            }
            b'`' => {
                let len = s[i + 1..]
                    .find('`')
                    .ok_or("unterminated raw quoted string")?;
                toks.push(Tok::Str(s[i + 1..i + 1 + len].to_string()));
                i += len + 2;
            }
            b'0'..=b'9' | b'-' | b'+' => {
                let end = number_end(b, i);
                toks.push(Tok::Num(number(&s[i..end])?));
                i = end;
            }
            _ if (c as char).is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let end = word_end(i);
                if end == i {
                    return Err(format!("unexpected character in action: {:?}", &s[i..]));
                }
                toks.push(Tok::Ident(s[i..end].to_string()));
                i = end;
            }
            _ => {
                return Err(format!(
                    "unexpected {:?} in action",
                    s[i..].chars().next().unwrap_or(' ')
                ))
            }
        }
    }
    Ok(toks)
}

fn number_end(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        let c = b[i];
        let exp_sign = (c == b'-' || c == b'+') && matches!(b[i - 1], b'e' | b'E');
        if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || exp_sign {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// A Go number constant in the engine's syntax: integers in decimal,
/// floats as written.
fn number(text: &str) -> Result<String, String> {
    let bad = || format!("bad number syntax: {text:?}");
    let clean = text.replace('_', "");
    let (neg, body) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, clean.as_str()),
    };
    let radix = match body.get(..2) {
        Some("0x" | "0X") => Some(16),
        Some("0o" | "0O") => Some(8),
        Some("0b" | "0B") => Some(2),
        _ => None,
    };
    let magnitude = match radix {
        Some(r) => Some(u64::from_str_radix(&body[2..], r).map_err(|_| bad())?),
        None if body.len() > 1
            && body.starts_with('0')
            && body.bytes().all(|d| d.is_ascii_digit()) =>
        {
            Some(u64::from_str_radix(&body[1..], 8).map_err(|_| bad())?)
        }
        None if body.bytes().all(|d| d.is_ascii_digit()) && !body.is_empty() => {
            Some(body.parse::<u64>().map_err(|_| bad())?)
        }
        None => None,
    };
    // An integer constant must fit Go's int (int64): down to -2^63.
    if let Some(m) = magnitude {
        let v = if neg { -(m as i128) } else { m as i128 };
        let i = i64::try_from(v).map_err(|_| format!("{text} overflows int"))?;
        return Ok(match i {
            i64::MIN => "(-9223372036854775807 - 1)".into(),
            i if i < 0 => format!("({i})"),
            i => i.to_string(),
        });
    }
    let f: f64 = body.parse().map_err(|_| bad())?;
    if !f.is_finite() {
        return Err(bad());
    }
    let lit = format!("{f:?}");
    Ok(if neg { format!("(-{lit})") } else { lit })
}

/// A Go interpreted string literal's value.
fn unquote(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or("bad escape")?;
        out.push(match e {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'a' => '\x07',
            'b' => '\x08',
            'f' => '\x0c',
            'v' => '\x0b',
            '\\' => '\\',
            '"' => '"',
            '\'' => '\'',
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = chars.by_ref().take(n).collect();
                let code = u32::from_str_radix(&hex, 16).map_err(|_| "bad escape")?;
                char::from_u32(code).ok_or("bad escape")?
            }
            _ => return Err(format!("unknown escape sequence: \\{e}")),
        });
    }
    Ok(out)
}

/// Splits `toks` at each `sep` outside parentheses.
fn split_top<'a>(toks: &'a [Tok], sep: &Tok) -> Vec<&'a [Tok]> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.saturating_sub(1),
            t if t == sep && depth == 0 => {
                parts.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&toks[start..]);
    parts
}

fn matching_close(toks: &[Tok], open: usize) -> Result<usize, String> {
    let mut depth = 0;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t {
            Tok::Open => depth += 1,
            Tok::Close => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => {}
        }
    }
    Err("unclosed left paren".into())
}

/// Where the term starting at `i` ends: a parenthesised pipeline or a
/// variable, `.` or field chain, with the fields that follow it.
fn term_end(toks: &[Tok], i: usize) -> Result<usize, String> {
    let mut end = match toks[i] {
        Tok::Open => matching_close(toks, i)? + 1,
        Tok::Close => return Err("unexpected right paren".into()),
        Tok::Pipe | Tok::Declare | Tok::Assign | Tok::Comma => {
            return Err("unexpected token in operand".into())
        }
        _ => i + 1,
    };
    while matches!(toks.get(end), Some(Tok::Chain(_))) {
        end += 1;
    }
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_the_usual_forms() {
        for (go, ours) in [
            ("a-{{ .Release.Name }}", "{{ \"a-\" }}{{ ((__dot | go_fields(\"Release\"))[\"Release\"] | go_fields(\"Name\"))[\"Name\"] | go_value }}"),
            ("{{ $.X | quote }}", "{{ quote((__root | go_fields(\"X\"))[\"X\"]) | go_value }}"),
            ("{{ default \"d\" .A | upper }}", "{{ upper(default((__dot | go_fields(\"A\"))[\"A\"], \"d\")) | go_value }}"),
            ("x {{- /* c */ -}} \n y", "{{ \"x\" }}{{ \"y\" }}"),
            ("{{ if eq .A 1 2 }}y{{ else if not .B }}n{{ end }}", "{% if ((__dot | go_fields(\"A\"))[\"A\"] == 1 or (__dot | go_fields(\"A\"))[\"A\"] == 2) %}{{ \"y\" }}{% elif (not (__dot | go_fields(\"B\"))[\"B\"]) %}{{ \"n\" }}{% endif %}"),
            ("{{ $x := 0x1F }}{{ $x }}", "{% set v_x = 31 %}{{ v_x | go_value }}"),
            ("{{ include \"n\" $ }}", "{{ __h[(__names | go_named(\"n\"))](__root) | go_value }}"),
            ("{%raw%}{#", "{{ \"{%raw%}{#\" }}"),
        ] {
            assert_eq!(translate(go).unwrap().source, ours, "{go}");
        }
    }

    #[test]
    fn refuses_what_it_does_not_translate() {
        for (go, says) in [
            ("{{ define \"x\" }}", "not supported"),
            ("{{ include \"x\" }}", "wrong number of args"),
            ("{{ nope 1 }}", "function \"nope\" not defined"),
            ("{{ uuidv4 }}", "changes from one render to the next"),
            (
                "{{ now | date \"2006\" }}",
                "changes from one render to the next",
            ),
            ("{{ if .A }}", "has no {{ end }}"),
            ("{{ end }}", "unexpected {{end}}"),
            ("{{ .A", "unclosed action"),
            ("{{ (1 }}", "unclosed left paren"),
            ("{{ \"a }}", "unterminated"),
            ("{{ range .A }}{{ $x = 1 }}{{ end }}", "not supported"),
            ("{{ 1 2 }}", "not a function"),
            ("{{ break }}", "outside"),
            ("{{ nil | default 1 }}", "nil is not a command"),
            ("{{ $x := (nil) }}", "nil is not a command"),
            ("{{ 9223372036854775808 }}", "overflows int"),
            ("{{ -9223372036854775809 }}", "overflows int"),
        ] {
            let e = translate(go).unwrap_err();
            assert!(e.contains(says), "{go}: {e}");
        }
        // Go's int reaches down to -2^63.
        assert!(translate("{{ -9223372036854775808 }}").is_ok());
        let deep = format!("{{{{ {}1{} }}}}", "(".repeat(200), ")".repeat(200));
        assert!(translate(&deep).unwrap_err().contains("too deep"));
    }

    /// Text made of template pieces in random order never panics the
    /// translator, and whatever it accepts the engine compiles.
    #[test]
    fn any_text_translates_or_is_refused() {
        const PIECES: &[&str] = &[
            "{{",
            "}}",
            "{{- ",
            " -}}",
            " ",
            ".",
            ".a",
            "$",
            "$x",
            " := ",
            " = ",
            "|",
            "(",
            ")",
            "\"s\"",
            "`r`",
            "'c'",
            "1",
            "-2",
            "0x1F",
            "1.5e3",
            "if ",
            "else ",
            "end",
            "range ",
            "with ",
            ",",
            "eq ",
            "and ",
            "default ",
            "quote",
            "nil",
            "true",
            "/*",
            "*/",
            "\n",
            "é",
            "{%",
            "#}",
            "\\",
            "break",
            "include ",
            "template ",
        ];
        let env = crate::render::new_environment();
        let mut seed = 0x9e3779b97f4a7c15u64;
        for _ in 0..20_000 {
            let mut text = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for k in 0..(seed % 12) {
                text.push_str(PIECES[((seed >> (k * 5)) as usize) % PIECES.len()]);
            }
            if let Ok(t) = translate(&text) {
                let src = t.source;
                if let Err(e) = env.template_from_str(&src) {
                    panic!("{text:?} -> {src:?}: {e}");
                }
            }
        }
    }
}
