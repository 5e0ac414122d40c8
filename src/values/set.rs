//! The `--set` family of flags, parsed with Helm's strvals rules: `a.b=c`,
//! `l[0]=x`, `{a,b}` lists, backslash escapes, comma-separated pairs, and
//! type inference for `--set` (int64, bool, null) versus strings for
//! `--set-string`.

use super::model::{Map, Value};

/// Deepest `a.b.c...` nesting Helm accepts.
pub const MAX_NESTED_NAME_LEVEL: usize = 30;
/// Largest list index Helm accepts (it refuses bigger ones, so `l[1000000000]`
/// cannot allocate gigabytes).
pub const MAX_INDEX: usize = 65536;

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Kind {
    /// `--set`: typed values.
    Typed,
    /// `--set-string`: every value a string.
    String,
    /// `--set-json`: values are JSON.
    Json,
    /// `--set-file`: values are file paths, replaced by the file's contents.
    File,
}

type Reader<'r> = dyn FnMut(&str) -> Result<Value, String> + 'r;

struct Parser<'a, 'r> {
    chars: Vec<char>,
    pos: usize,
    kind: Kind,
    reader: &'a mut Reader<'r>,
}

/// End of input, as distinct from a real error.
#[derive(Debug)]
enum PErr {
    Eof,
    Msg(String),
}

type PResult<T> = Result<T, PErr>;

fn msg<T>(s: impl Into<String>) -> PResult<T> {
    Err(PErr::Msg(s.into()))
}

/// Go's `%q` of a rune slice, as Helm prints it: `['a' 'b']`.
fn go_q_runes(s: &str) -> String {
    let inner: Vec<String> = s.chars().map(|c| format!("'{c}'")).collect();
    format!("[{}]", inner.join(" "))
}

/// Go's `%q` of a string (close enough for error messages).
fn go_q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

impl Parser<'_, '_> {
    fn read(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }
    fn unread(&mut self) {
        self.pos -= 1;
    }
    fn rest(&self) -> String {
        self.chars[self.pos..].iter().collect()
    }

    /// Reads until one of `stop`, honouring backslash escapes. Returns the
    /// text and the stop character, or Eof with the text read so far.
    fn until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let mut v = String::new();
        loop {
            match self.read() {
                None => return (v, None),
                Some(c) if stop.contains(&c) => return (v, Some(c)),
                Some('\\') => match self.read() {
                    None => return (v, None),
                    Some(n) => v.push(n),
                },
                Some(c) => v.push(c),
            }
        }
    }

    fn parse(&mut self, data: &mut Map) -> PResult<()> {
        loop {
            match self.key(data, 0) {
                Ok(()) => continue,
                Err(PErr::Eof) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    fn typed(&self, s: &str) -> Value {
        if self.kind == Kind::String {
            return Value::String(s.to_string());
        }
        if s.eq_ignore_ascii_case("true") {
            return Value::Bool(true);
        }
        if s.eq_ignore_ascii_case("false") {
            return Value::Bool(false);
        }
        if s.eq_ignore_ascii_case("null") {
            return Value::Null;
        }
        if s == "0" {
            return Value::Int(0);
        }
        if !s.is_empty() && !s.starts_with('0') {
            if let Some(i) = parse_go_int10(s) {
                return Value::Int(i);
            }
        }
        Value::String(s.to_string())
    }

    fn value_of(&mut self, raw: &str) -> PResult<Value> {
        match self.kind {
            Kind::File => (self.reader)(raw).map_err(PErr::Msg),
            _ => Ok(self.typed(raw)),
        }
    }

    // Early returns kept so each arm reads like Helm's strvals case it mirrors.
    #[allow(clippy::needless_return)]
    fn key(&mut self, data: &mut Map, mut level: usize) -> PResult<()> {
        let stop = ['=', '[', ',', '.'];
        {
            let (k, last) = self.until(&stop);
            match last {
                None => {
                    if k.is_empty() {
                        return Err(PErr::Eof);
                    }
                    return msg(format!("key {} has no value", go_q(&k)));
                }
                Some('[') => {
                    let i = self.key_index()?;
                    let list = match data.get(&k) {
                        None => Vec::new(),
                        Some(Value::List(l)) => l.clone(),
                        Some(other) => {
                            return msg(format!(
                                "unable to parse key: interface conversion: interface {{}} is {}, not []interface {{}}",
                                go_type(other)
                            ))
                        }
                    };
                    let (list, res) = self.list_item(list, i, level);
                    set(data, &k, Value::List(list));
                    return res;
                }
                Some('=') => {
                    if self.kind == Kind::Json {
                        if self.empty_val() {
                            set(data, &k, Value::Null);
                            return Ok(());
                        }
                        let v = self.json_value()?;
                        set(data, &k, v);
                        self.empty_val();
                        return Ok(());
                    }
                    match self.val_list() {
                        Ok(l) => {
                            set(data, &k, Value::List(l));
                            return Ok(());
                        }
                        Err(ListErr::Eof) => {
                            set(data, &k, Value::String(String::new()));
                            return Err(PErr::Eof);
                        }
                        Err(ListErr::NotList) => {
                            let (rs, _) = self.until(&[',']);
                            let v = self.value_of(&rs)?;
                            set(data, &k, v);
                            return Ok(());
                        }
                        Err(ListErr::Msg(m)) => return msg(m),
                    }
                }
                Some(',') => {
                    set(data, &k, Value::String(String::new()));
                    return msg(format!("key {} has no value (cannot end with ,)", go_q(&k)));
                }
                Some('.') => {
                    level += 1;
                    if level > MAX_NESTED_NAME_LEVEL {
                        return msg(format!(
                            "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                        ));
                    }
                    let mut inner = match data.get(&k) {
                        None => Map::new(),
                        Some(Value::Map(m)) => m.clone(),
                        Some(other) => {
                            return msg(format!(
                                "unable to parse key: interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                                go_type(other)
                            ))
                        }
                    };
                    let e = self.key(&mut inner, level);
                    if e.is_ok() && inner.is_empty() {
                        return msg(format!("key map {} has no value", go_q(&k)));
                    }
                    if !inner.is_empty() {
                        set(data, &k, Value::Map(inner));
                    }
                    return e;
                }
                Some(_) => unreachable!("stop set"),
            }
        }
    }

    fn key_index(&mut self) -> PResult<usize> {
        let (v, last) = self.until(&[']']);
        if last.is_none() {
            return Err(PErr::Eof);
        }
        let i: i64 = v.parse().map_err(|_| {
            PErr::Msg(format!(
                "error parsing index: strconv.Atoi: parsing {}: invalid syntax",
                go_q(&v)
            ))
        })?;
        if i < 0 {
            return msg(format!("negative {i} index not allowed"));
        }
        if i as u64 > MAX_INDEX as u64 {
            return msg(format!(
                "index of {i} is greater than maximum supported index of {MAX_INDEX}"
            ));
        }
        Ok(i as usize)
    }

    fn list_item(
        &mut self,
        mut list: Vec<Value>,
        i: usize,
        level: usize,
    ) -> (Vec<Value>, PResult<()>) {
        let (k, last) = self.until(&['[', '.', '=']);
        if !k.is_empty() {
            return (
                list,
                msg(format!(
                    "unexpected data at end of array index: {}",
                    go_q_runes(&k)
                )),
            );
        }
        match last {
            None => (list, Err(PErr::Eof)),
            Some('=') => {
                if self.kind == Kind::Json {
                    if self.empty_val() {
                        set_index(&mut list, i, Value::Null);
                        return (list, Ok(()));
                    }
                    match self.json_value() {
                        Ok(v) => {
                            set_index(&mut list, i, v);
                            self.empty_val();
                            (list, Ok(()))
                        }
                        Err(e) => (list, Err(e)),
                    }
                } else {
                    match self.val_list() {
                        Ok(l) => {
                            set_index(&mut list, i, Value::List(l));
                            (list, Ok(()))
                        }
                        Err(ListErr::Eof) => {
                            set_index(&mut list, i, Value::String(String::new()));
                            (list, Ok(()))
                        }
                        Err(ListErr::NotList) => {
                            let (rs, _) = self.until(&[',']);
                            match self.value_of(&rs) {
                                Ok(v) => {
                                    set_index(&mut list, i, v);
                                    (list, Ok(()))
                                }
                                Err(e) => (list, Err(e)),
                            }
                        }
                        Err(ListErr::Msg(m)) => (list, msg(m)),
                    }
                }
            }
            Some('[') => {
                let next = match self.key_index() {
                    Ok(n) => n,
                    Err(e) => return (list, Err(e)),
                };
                let crt = match list.get(i) {
                    Some(Value::List(l)) => l.clone(),
                    Some(Value::Null) | None => Vec::new(),
                    Some(other) => {
                        let m = format!(
                            "unable to parse key: interface conversion: interface {{}} is {}, not []interface {{}}",
                            go_type(other)
                        );
                        return (list, msg(m));
                    }
                };
                let (l2, res) = self.list_item(crt, next, level);
                if let Err(e) = res {
                    return (list, Err(e));
                }
                set_index(&mut list, i, Value::List(l2));
                (list, Ok(()))
            }
            Some('.') => {
                let mut inner = match list.get(i) {
                    Some(Value::Map(m)) => m.clone(),
                    _ => Map::new(),
                };
                let res = self.key(&mut inner, level);
                if let Err(e) = res {
                    return (list, Err(e));
                }
                set_index(&mut list, i, Value::Map(inner));
                (list, Ok(()))
            }
            Some(c) => (list, msg(format!("parse error: unexpected token {c}"))),
        }
    }

    /// Consumes optional spaces and a comma; true when the value is empty.
    fn empty_val(&mut self) -> bool {
        loop {
            match self.read() {
                None | Some(',') => return true,
                Some(c) if c.is_whitespace() => continue,
                Some(_) => {
                    self.unread();
                    return false;
                }
            }
        }
    }

    fn json_value(&mut self) -> PResult<Value> {
        let rest = self.rest();
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<serde_json::Value>();
        match stream.next() {
            Some(Ok(v)) => {
                let consumed = rest[..stream.byte_offset()].chars().count();
                self.pos += consumed;
                Ok(from_json(v))
            }
            Some(Err(e)) => msg(e.to_string()),
            None => msg("unexpected end of JSON input"),
        }
    }

    fn val_list(&mut self) -> Result<Vec<Value>, ListErr> {
        match self.read() {
            None => return Err(ListErr::Eof),
            Some('{') => {}
            Some(_) => {
                self.unread();
                return Err(ListErr::NotList);
            }
        }
        let mut list = Vec::new();
        loop {
            let (rs, last) = self.until(&[',', '}']);
            match last {
                None => return Err(ListErr::Msg("list must terminate with '}'".into())),
                Some('}') => {
                    if let Some(c) = self.read() {
                        if c != ',' {
                            self.unread();
                        }
                    }
                    let v = self.value_of(&rs).map_err(|e| match e {
                        PErr::Msg(m) => ListErr::Msg(m),
                        PErr::Eof => ListErr::Eof,
                    })?;
                    list.push(v);
                    return Ok(list);
                }
                _ => {
                    let v = self.value_of(&rs).map_err(|e| match e {
                        PErr::Msg(m) => ListErr::Msg(m),
                        PErr::Eof => ListErr::Eof,
                    })?;
                    list.push(v);
                }
            }
        }
    }
}

enum ListErr {
    Eof,
    NotList,
    Msg(String),
}

/// Go's name for the type a value decodes to (`nil` for null).
pub(crate) fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "nil",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int64",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "[]interface {}",
        Value::Map(_) => "map[string]interface {}",
    }
}

/// Go's strconv.ParseInt(s, 10, 64).
fn parse_go_int10(s: &str) -> Option<i64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

fn set(data: &mut Map, key: &str, v: Value) {
    if !key.is_empty() {
        data.insert(key.to_string(), v);
    }
}

fn set_index(list: &mut Vec<Value>, i: usize, v: Value) {
    if list.len() <= i {
        list.resize(i + 1, Value::Null);
    }
    list[i] = v;
}

/// JSON numbers become float64, as Go's encoding/json decodes them.
pub fn from_json(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::String(s),
        serde_json::Value::Array(a) => Value::List(a.into_iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            Value::Map(o.into_iter().map(|(k, v)| (k, from_json(v))).collect())
        }
    }
}

fn run(s: &str, dest: &mut Map, kind: Kind, reader: &mut Reader<'_>) -> Result<(), String> {
    let mut p = Parser {
        chars: s.chars().collect(),
        pos: 0,
        kind,
        reader,
    };
    match p.parse(dest) {
        Ok(()) => Ok(()),
        Err(PErr::Eof) => Ok(()),
        Err(PErr::Msg(m)) => Err(m),
    }
}

/// `--set`: typed values into `dest`.
pub fn parse_set(s: &str, dest: &mut Map) -> Result<(), String> {
    run(s, dest, Kind::Typed, &mut |_| Ok(Value::Null))
}

/// `--set-string`.
pub fn parse_set_string(s: &str, dest: &mut Map) -> Result<(), String> {
    run(s, dest, Kind::String, &mut |_| Ok(Value::Null))
}

/// `--set-json` in its `key=<json>` form.
pub fn parse_set_json(s: &str, dest: &mut Map) -> Result<(), String> {
    run(s, dest, Kind::Json, &mut |_| Ok(Value::Null))
}

/// `--set-file`: `reader` turns a path into the file's contents.
pub fn parse_set_file(s: &str, dest: &mut Map, reader: &mut Reader<'_>) -> Result<(), String> {
    run(s, dest, Kind::File, reader)
}

/// `--set-literal`: `a.b[0]=<everything after the first '='>`, no escapes or
/// comma splitting.
pub fn parse_set_literal(s: &str, dest: &mut Map) -> Result<(), String> {
    let chars: Vec<char> = s.chars().collect();
    let mut pos = 0;
    loop {
        match literal_key(&chars, &mut pos, dest, 0) {
            Ok(()) => continue,
            Err(PErr::Eof) => return Ok(()),
            Err(PErr::Msg(m)) => return Err(m),
        }
    }
}

fn lit_until(chars: &[char], pos: &mut usize, stop: &[char]) -> (String, Option<char>) {
    let mut v = String::new();
    while *pos < chars.len() {
        let c = chars[*pos];
        *pos += 1;
        if stop.contains(&c) {
            return (v, Some(c));
        }
        v.push(c);
    }
    (v, None)
}

fn lit_index(chars: &[char], pos: &mut usize) -> PResult<usize> {
    let (v, last) = lit_until(chars, pos, &[']']);
    if last.is_none() {
        return Err(PErr::Eof);
    }
    let i: i64 = v.parse().map_err(|_| {
        PErr::Msg(format!(
            "error parsing index: strconv.Atoi: parsing {}: invalid syntax",
            go_q(&v)
        ))
    })?;
    if i < 0 {
        return msg(format!("negative {i} index not allowed"));
    }
    if i as u64 > MAX_INDEX as u64 {
        return msg(format!(
            "index of {i} is greater than maximum supported index of {MAX_INDEX}"
        ));
    }
    Ok(i as usize)
}

fn literal_key(chars: &[char], pos: &mut usize, data: &mut Map, mut level: usize) -> PResult<()> {
    let (key, last) = lit_until(chars, pos, &['=', '[', '.']);
    match last {
        None => {
            if key.is_empty() {
                Err(PErr::Eof)
            } else {
                msg(format!("key {} has no value", go_q(&key)))
            }
        }
        Some('=') => {
            let value: String = chars[*pos..].iter().collect();
            *pos = chars.len();
            set(data, &key, Value::String(value));
            Ok(())
        }
        Some('.') => {
            level += 1;
            if level > MAX_NESTED_NAME_LEVEL {
                return msg(format!(
                    "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                ));
            }
            let mut inner = match data.get(&key) {
                None => Map::new(),
                Some(Value::Map(m)) => m.clone(),
                Some(other) => {
                    return msg(format!(
                        "unable to parse key: interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                        go_type(other)
                    ))
                }
            };
            let e = literal_key(chars, pos, &mut inner, level);
            if e.is_ok() && inner.is_empty() {
                return msg(format!("key map {} has no value", go_q(&key)));
            }
            if !inner.is_empty() {
                set(data, &key, Value::Map(inner));
            }
            e
        }
        Some('[') => {
            let i = lit_index(chars, pos)?;
            let list = match data.get(&key) {
                None => Vec::new(),
                Some(Value::List(l)) => l.clone(),
                Some(other) => {
                    return msg(format!(
                        "unable to parse key: interface conversion: interface {{}} is {}, not []interface {{}}",
                        go_type(other)
                    ))
                }
            };
            let (list, res) = literal_list_item(chars, pos, list, i, level);
            set(data, &key, Value::List(list));
            res
        }
        Some(_) => unreachable!(),
    }
}

fn literal_list_item(
    chars: &[char],
    pos: &mut usize,
    mut list: Vec<Value>,
    i: usize,
    level: usize,
) -> (Vec<Value>, PResult<()>) {
    let (key, last) = lit_until(chars, pos, &['[', '.', '=']);
    if !key.is_empty() {
        return (
            list,
            msg(format!(
                "unexpected data at end of array index: {}",
                go_q_runes(&key)
            )),
        );
    }
    match last {
        None => (list, Err(PErr::Eof)),
        Some('=') => {
            let value: String = chars[*pos..].iter().collect();
            *pos = chars.len();
            set_index(&mut list, i, Value::String(value));
            (list, Ok(()))
        }
        Some('.') => {
            let mut inner = match list.get(i) {
                Some(Value::Map(m)) => m.clone(),
                _ => Map::new(),
            };
            if let Err(e) = literal_key(chars, pos, &mut inner, level) {
                return (list, Err(e));
            }
            set_index(&mut list, i, Value::Map(inner));
            (list, Ok(()))
        }
        Some('[') => {
            let next = match lit_index(chars, pos) {
                Ok(n) => n,
                Err(e) => return (list, Err(e)),
            };
            let crt = match list.get(i) {
                Some(Value::List(l)) => l.clone(),
                _ => Vec::new(),
            };
            let (l2, res) = literal_list_item(chars, pos, crt, next, level);
            if let Err(e) = res {
                return (list, Err(e));
            }
            set_index(&mut list, i, Value::List(l2));
            (list, Ok(()))
        }
        Some(c) => (list, msg(format!("parse error: unexpected token {c}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_str(s: &str) -> Result<Map, String> {
        let mut m = Map::new();
        parse_set(s, &mut m).map(|_| m)
    }

    #[test]
    fn typed_values() {
        let m = set_str("a=1,b=true,c=null,d=01,e=-1,f=1.5,g=0").unwrap();
        assert_eq!(m["a"], Value::Int(1));
        assert_eq!(m["b"], Value::Bool(true));
        assert_eq!(m["c"], Value::Null);
        assert_eq!(m["d"], Value::from("01"));
        assert_eq!(m["e"], Value::Int(-1));
        assert_eq!(m["f"], Value::from("1.5"));
        assert_eq!(m["g"], Value::Int(0));
    }

    #[test]
    fn nesting_lists_and_escapes() {
        let m = set_str(r"a.b[1].c=x,l={1,2},e=a\,b,k\.dot=1").unwrap();
        let l = m["a"].as_map().unwrap()["b"].clone();
        assert_eq!(
            l,
            Value::List(vec![
                Value::Null,
                Value::Map([("c".to_string(), Value::from("x"))].into())
            ])
        );
        assert_eq!(m["l"], Value::List(vec![Value::Int(1), Value::Int(2)]));
        assert_eq!(m["e"], Value::from("a,b"));
        assert_eq!(m["k.dot"], Value::Int(1));
    }

    #[test]
    fn huge_index_is_refused() {
        assert!(set_str("l[1000000000]=1")
            .unwrap_err()
            .contains("maximum supported index"));
    }

    #[test]
    fn errors() {
        assert!(set_str("a").unwrap_err().contains("has no value"));
        assert!(set_str("a.b").is_err());
        let deep = (0..40)
            .map(|i| format!("k{i}"))
            .collect::<Vec<_>>()
            .join(".")
            + "=1";
        assert!(set_str(&deep).unwrap_err().contains("nested level"));
    }

    #[test]
    fn literal_and_json() {
        let mut m = Map::new();
        parse_set_literal("a.b=x,y={z}", &mut m).unwrap();
        assert_eq!(m["a"].as_map().unwrap()["b"], Value::from("x,y={z}"));
        let mut m = Map::new();
        parse_set_json(r#"a=[1,{"b":2}],c="s""#, &mut m).unwrap();
        assert_eq!(m["c"], Value::from("s"));
        assert!(m["a"].as_map().is_none());
    }
}
