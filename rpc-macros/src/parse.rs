//! Reads the trait and its attributes into a [`Service`], rejecting what cannot be remote
//! with an error at the offending tokens.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ItemTrait, LitStr, Pat, PathArguments, ReturnType, TraitItem, Type,
};

pub struct Service {
    pub item: ItemTrait,
    /// Name on the wire; the trait's name unless `name = "…"` is given.
    pub name: String,
    pub version: String,
    /// The client's default serialization (`serialization = "protobuf"` etc.); msgpack unless given.
    pub serialization: Option<Ident>,
    pub methods: Vec<Method>,
}

pub struct Method {
    pub ident: Ident,
    /// Name on the wire; the method's name unless `#[rpc(name = "…")]` is given.
    pub wire_name: String,
    pub idempotent: bool,
    pub oneway: bool,
    pub docs: Vec<Attribute>,
    pub args: Vec<(Ident, Type)>,
    /// The JVM descriptor of the parameter types, concatenated (dubbo2's `Ljava/lang/String;I`).
    pub java_parameters: String,
    /// The JVM descriptor of the return type.
    pub java_return: String,
    /// `T` of `Result<T, E>`.
    pub ok: Type,
    /// `E` of `Result<T, E>`.
    pub err: Type,
    /// The whole declared output type.
    pub output: Type,
    /// `T` when the (only) argument is `Streaming<T>`: the caller streams.
    pub input_stream: Option<Type>,
    /// `T` when the result is `Streaming<T>`: the provider streams.
    pub output_stream: Option<Type>,
}

impl Method {
    pub fn is_streaming(&self) -> bool {
        self.input_stream.is_some() || self.output_stream.is_some()
    }

    /// The descriptor's `MethodKind` variant.
    pub fn kind(&self) -> &'static str {
        match (self.input_stream.is_some(), self.output_stream.is_some()) {
            (false, false) => "Unary",
            (true, false) => "ClientStreaming",
            (false, true) => "ServerStreaming",
            (true, true) => "Bidirectional",
        }
    }
}

impl Service {
    pub fn from_trait(args: TokenStream, mut item: ItemTrait) -> syn::Result<Service> {
        let mut name = item.ident.to_string();
        let mut version = String::new();
        let mut serialization = None;
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("name") {
                name = meta.value()?.parse::<LitStr>()?.value();
            } else if meta.path.is_ident("version") {
                version = meta.value()?.parse::<LitStr>()?.value();
            } else if meta.path.is_ident("serialization") {
                let value = meta.value()?.parse::<LitStr>()?;
                let variant = match value.value().as_str() {
                    "msgpack" => "MsgPack",
                    "json" => "Json",
                    "protobuf" => "Protobuf",
                    "hessian2" => "Hessian2",
                    _ => {
                        return Err(syn::Error::new(
                            value.span(),
                            "expected \"msgpack\", \"json\", \"protobuf\" or \"hessian2\"",
                        ))
                    }
                };
                serialization = Some(Ident::new(variant, value.span()));
            } else {
                return Err(meta.error(
                    "unknown service option; expected `name = \"…\"`, `version = \"…\"` or `serialization = \"…\"`",
                ));
            }
            Ok(())
        });
        parser.parse2(args)?;

        if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
            return Err(syn::Error::new(
                item.generics.span(),
                "an rpc service trait cannot be generic: a remote caller cannot choose its types",
            ));
        }
        let mut methods = Vec::new();
        for trait_item in &mut item.items {
            match trait_item {
                TraitItem::Fn(function) => methods.push(Method::from_fn(function)?),
                other => {
                    return Err(syn::Error::new(
                        other.span(),
                        "an rpc service trait may contain only `async fn` methods",
                    ))
                }
            }
        }
        Ok(Service { item, name, version, serialization, methods })
    }
}

impl Method {
    fn from_fn(function: &mut syn::TraitItemFn) -> syn::Result<Method> {
        let (wire_name, idempotent, oneway, java_return) =
            take_rpc_attributes(&mut function.attrs, &function.sig.ident)?;
        let java_overrides = take_argument_attributes(&mut function.sig)?;
        let sig = &function.sig;
        if sig.asyncness.is_none() {
            return Err(syn::Error::new(
                sig.fn_token.span(),
                format!("rpc method `{}` must be an `async fn`", sig.ident),
            ));
        }
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            return Err(syn::Error::new(
                sig.generics.span(),
                format!("rpc method `{}` cannot be generic: a remote caller cannot choose its types", sig.ident),
            ));
        }
        if let Some(variadic) = &sig.variadic {
            return Err(syn::Error::new(variadic.span(), "rpc methods cannot be variadic"));
        }
        let mut inputs = sig.inputs.iter();
        match inputs.next() {
            Some(FnArg::Receiver(receiver)) if receiver.reference.is_some() && receiver.mutability.is_none() => {}
            Some(FnArg::Receiver(receiver)) => {
                return Err(syn::Error::new(
                    receiver.span(),
                    format!(
                        "rpc method `{}` must take `&self`: one provider instance serves many concurrent calls",
                        sig.ident
                    ),
                ))
            }
            _ => {
                return Err(syn::Error::new(
                    sig.ident.span(),
                    format!("rpc method `{}` must take `&self` as its first parameter", sig.ident),
                ))
            }
        }
        let mut args = Vec::new();
        for input in inputs {
            let FnArg::Typed(typed) = input else { unreachable!("only the first parameter can be a receiver") };
            let Pat::Ident(pat) = &*typed.pat else {
                return Err(syn::Error::new(
                    typed.pat.span(),
                    "rpc method arguments must be plain names (`name: Type`)",
                ));
            };
            if contains_reference(&typed.ty) {
                return Err(syn::Error::new(
                    typed.ty.span(),
                    "rpc method arguments must be owned types (for example `String`, not `&str`): they are decoded from the wire",
                ));
            }
            args.push((pat.ident.clone(), (*typed.ty).clone()));
        }
        let output = match &sig.output {
            ReturnType::Type(_, ty) => (**ty).clone(),
            ReturnType::Default => {
                return Err(syn::Error::new(
                    sig.ident.span(),
                    format!(
                    "rpc method `{}` must return `Result<T, E>` (E = rpc::Status or a type converting to and from it)",
                    sig.ident
                ),
                ))
            }
        };
        let (ok, err) = result_types(&output).ok_or_else(|| {
            syn::Error::new(
                output.span(),
                "rpc methods must return `Result<T, E>` (E = rpc::Status or a type converting to and from it)",
            )
        })?;
        if oneway && !is_unit(&ok) {
            return Err(syn::Error::new(
                ok.span(),
                "a oneway rpc method returns `Result<(), E>`: its caller gets no reply",
            ));
        }
        let input_stream = match args.as_slice() {
            [(_, ty)] => streaming_item(ty),
            args => {
                if let Some((_, ty)) = args.iter().find(|(_, ty)| streaming_item(ty).is_some()) {
                    return Err(syn::Error::new(
                        ty.span(),
                        "a `Streaming<T>` argument must be the method's only argument",
                    ));
                }
                None
            }
        };
        let output_stream = streaming_item(&ok);
        if oneway && (input_stream.is_some() || output_stream.is_some()) {
            return Err(syn::Error::new(sig.ident.span(), "a streaming rpc method cannot be oneway"));
        }
        let docs = function.attrs.iter().filter(|a| a.path().is_ident("doc")).cloned().collect();
        let java_parameters = args
            .iter()
            .zip(&java_overrides)
            .map(|((_, ty), java)| java.clone().unwrap_or_else(|| crate::java::descriptor(ty)))
            .collect();
        let java_return = java_return.unwrap_or_else(|| crate::java::descriptor(&ok));
        Ok(Method {
            ident: sig.ident.clone(),
            wire_name,
            idempotent,
            oneway,
            docs,
            args,
            java_parameters,
            java_return,
            ok,
            err,
            output,
            input_stream,
            output_stream,
        })
    }
}

/// Reads and removes `#[rpc(java = "…")]` on each argument: the Java type it is, as a JVM
/// descriptor (`Lorg/apache/dubbo/samples/User;`).
fn take_argument_attributes(sig: &mut syn::Signature) -> syn::Result<Vec<Option<String>>> {
    let mut overrides = Vec::new();
    for input in sig.inputs.iter_mut() {
        let FnArg::Typed(typed) = input else { continue };
        let mut java = None;
        let mut error = None;
        typed.attrs.retain(|attr| {
            if !attr.path().is_ident("rpc") {
                return true;
            }
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("java") {
                    java = Some(meta.value()?.parse::<LitStr>()?.value());
                    Ok(())
                } else {
                    Err(meta.error("unknown rpc argument option; expected `java = \"Lpkg/Name;\"`"))
                }
            });
            if let Err(e) = result {
                error.get_or_insert(e);
            }
            false
        });
        if let Some(e) = error {
            return Err(e);
        }
        overrides.push(java);
    }
    Ok(overrides)
}

/// What `#[rpc(…)]` on a method says.
type MethodOptions = (String, bool, bool, Option<String>);

/// Reads and removes `#[rpc(…)]` attributes: `name = "…"`, `idempotent`, `oneway`,
/// `java_return = "…"`.
fn take_rpc_attributes(attrs: &mut Vec<Attribute>, ident: &Ident) -> syn::Result<MethodOptions> {
    let mut wire_name = ident.to_string();
    let (mut idempotent, mut oneway) = (false, false);
    let mut java_return = None;
    let mut error = None;
    attrs.retain(|attr| {
        if !attr.path().is_ident("rpc") {
            return true;
        }
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("idempotent") {
                idempotent = true;
            } else if meta.path.is_ident("oneway") {
                oneway = true;
            } else if meta.path.is_ident("name") {
                wire_name = meta.value()?.parse::<LitStr>()?.value();
            } else if meta.path.is_ident("java_return") {
                java_return = Some(meta.value()?.parse::<LitStr>()?.value());
            } else {
                return Err(meta.error(
                    "unknown rpc method option; expected `idempotent`, `oneway`, `name = \"…\"` or `java_return = \"…\"`",
                ));
            }
            Ok(())
        });
        if let Err(e) = result {
            error.get_or_insert(e);
        }
        false
    });
    match error {
        Some(e) => Err(e),
        None => Ok((wire_name, idempotent, oneway, java_return)),
    }
}

fn result_types(ty: &Type) -> Option<(Type, Type)> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(generics) = &last.arguments else { return None };
    let mut types = generics.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty.clone()),
        _ => None,
    });
    let (ok, err) = (types.next()?, types.next()?);
    types.next().is_none().then_some((ok, err))
}

/// `T` of `Streaming<T>` (any path ending in `Streaming`, e.g. `rpc::Streaming<T>`).
fn streaming_item(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Streaming" {
        return None;
    }
    let PathArguments::AngleBracketed(generics) = &last.arguments else { return None };
    match generics.args.iter().collect::<Vec<_>>().as_slice() {
        [GenericArgument::Type(item)] => Some(item.clone()),
        _ => None,
    }
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(tuple) if tuple.elems.is_empty())
}

fn contains_reference(ty: &Type) -> bool {
    match ty {
        Type::Reference(_) => true,
        Type::Tuple(tuple) => tuple.elems.iter().any(contains_reference),
        Type::Array(array) => contains_reference(&array.elem),
        Type::Slice(_) => true,
        Type::Paren(paren) => contains_reference(&paren.elem),
        Type::Path(path) => path.path.segments.iter().any(|segment| match &segment.arguments {
            PathArguments::AngleBracketed(args) => args.args.iter().any(|arg| match arg {
                GenericArgument::Type(ty) => contains_reference(ty),
                GenericArgument::Lifetime(_) => true,
                _ => false,
            }),
            _ => false,
        }),
        _ => false,
    }
}
