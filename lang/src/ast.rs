//! The syntax tree. Every node carries its span; nodes that failed to parse are `Error` nodes,
//! so a broken file still has a tree.

use crate::span::Span;

/// A parsed file: its statements and its comments (kept for the formatter).
#[derive(Clone, Debug, Default)]
pub struct File {
    pub stmts: Vec<Stmt>,
    pub comments: Vec<Comment>,
}

/// A comment, with its text including the `#`, `//` or `/* */` markers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    pub text: String,
    /// True for `/* … */`.
    pub block: bool,
}

/// An identifier with its span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A statement: what a file, a block body, a template or a `for`/`if` holds. Where each kind is
/// allowed is checked by the parser (attributes only in bodies; `let`, `import` and `template`
/// only at a file's top level).
#[derive(Clone, Debug)]
pub enum Stmt {
    Import(Import),
    Let(Let),
    Template(Template),
    Block(Block),
    Attr(Attr),
    For(For),
    If(If),
}

impl Stmt {
    /// The statement's full span.
    pub fn span(&self) -> Span {
        match self {
            Stmt::Import(s) => s.span,
            Stmt::Let(s) => s.span,
            Stmt::Template(s) => s.span,
            Stmt::Block(s) => s.span,
            Stmt::Attr(s) => s.span,
            Stmt::For(s) => s.span,
            Stmt::If(s) => s.span,
        }
    }
}

/// `import "std/apps" as apps`
#[derive(Clone, Debug)]
pub struct Import {
    pub path: String,
    pub path_span: Span,
    pub alias: Option<Ident>,
    pub span: Span,
}

/// `let name = expr`
#[derive(Clone, Debug)]
pub struct Let {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `template name(a, b = 1) { … }`
#[derive(Clone, Debug)]
pub struct Template {
    pub name: Ident,
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// A template parameter, optional when it has a default.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: Ident,
    pub default: Option<Expr>,
}

/// `KIND LABEL? { body }` — a resource, a nested block or a template instance.
#[derive(Clone, Debug)]
pub struct Block {
    /// One identifier, or a dotted template name such as `apps.web_app`.
    pub kind: Vec<Ident>,
    pub label: Option<Label>,
    pub body: Vec<Stmt>,
    /// The span of the braces, `{` to `}`.
    pub body_span: Span,
    pub span: Span,
}

impl Block {
    /// The kind as written, `apps.web_app`.
    pub fn kind_name(&self) -> String {
        let parts: Vec<&str> = self.kind.iter().map(|i| i.name.as_str()).collect();
        parts.join(".")
    }

    /// The span of the kind path.
    pub fn kind_span(&self) -> Span {
        match (self.kind.first(), self.kind.last()) {
            (Some(a), Some(b)) => a.span.to(b.span),
            _ => self.span,
        }
    }
}

/// A block label: a string (literal, may interpolate) or a variable holding the name.
#[derive(Clone, Debug)]
pub enum Label {
    Str(Expr),
    Ident(Ident),
}

impl Label {
    /// The label's span.
    pub fn span(&self) -> Span {
        match self {
            Label::Str(e) => e.span,
            Label::Ident(i) => i.span,
        }
    }
}

/// `name = expr`
#[derive(Clone, Debug)]
pub struct Attr {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `for k, v in expr { … }`
#[derive(Clone, Debug)]
pub struct For {
    /// The index or key variable in `for k, v in …`.
    pub key: Option<Ident>,
    pub value: Ident,
    pub collection: Expr,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// `if cond { … } else { … }`
#[derive(Clone, Debug)]
pub struct If {
    pub cond: Expr,
    pub then: Vec<Stmt>,
    pub otherwise: Option<Vec<Stmt>>,
    pub span: Span,
}

/// An expression with its span.
#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// A piece of a string: literal text or an interpolated expression.
#[derive(Clone, Debug)]
pub enum StrPart {
    Lit(String),
    Interp(Expr),
}

/// A map key: a bare name (a literal string), a string (may interpolate) or `(expr)`.
#[derive(Clone, Debug)]
pub enum MapKey {
    Ident(Ident),
    Str(Expr),
    Expr(Expr),
}

impl MapKey {
    /// The key's span.
    pub fn span(&self) -> Span {
        match self {
            MapKey::Ident(i) => i.span,
            MapKey::Str(e) | MapKey::Expr(e) => e.span,
        }
    }
}

/// `key = value` inside a map literal.
#[derive(Clone, Debug)]
pub struct MapEntry {
    pub key: MapKey,
    pub value: Expr,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }

    /// Binding power: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne => 3,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 6,
        }
    }
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

/// Expression forms.
#[derive(Clone, Debug)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A number with a Kubernetes suffix, kept as written: `1.5`, `Gi`.
    Quantity {
        number: String,
        suffix: String,
    },
    /// A quoted string.
    Str(Vec<StrPart>),
    /// A heredoc: `<<EOT` or, with `indent`, `<<-EOT`.
    Heredoc {
        marker: String,
        indent: bool,
        parts: Vec<StrPart>,
    },
    /// A name: a variable, or a block kind when followed by `.NAME` / `[expr]`.
    Name(Ident),
    List(Vec<Expr>),
    Map(Vec<MapEntry>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `expr.name`
    Field(Box<Expr>, Ident),
    /// `expr[index]`
    Index(Box<Expr>, Box<Expr>),
    /// `f(args)`
    Call(Ident, Vec<Expr>),
    /// `[for k, v in coll : body if cond]`
    ListComp {
        key: Option<Ident>,
        value: Ident,
        collection: Box<Expr>,
        body: Box<Expr>,
        cond: Option<Box<Expr>>,
    },
    /// `{for k, v in coll : key => value if cond}`
    MapComp {
        key: Option<Ident>,
        value: Ident,
        collection: Box<Expr>,
        key_expr: Box<Expr>,
        value_expr: Box<Expr>,
        cond: Option<Box<Expr>>,
    },
    /// `(expr)`, kept so the formatter can print it back.
    Paren(Box<Expr>),
    /// Something that did not parse; a diagnostic was reported.
    Error,
}
