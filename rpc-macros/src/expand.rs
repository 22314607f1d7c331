//! Emits the code for a parsed [`Service`]: the server trait, its descriptor, `XClient` and
//! `XServer`. Locals in generated bodies are prefixed `__rpc_` so user argument names cannot
//! collide with them.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, TraitItem, Type};

use crate::parse::{Method, Service};

pub fn expand(service: &Service) -> TokenStream {
    let server_trait = server_trait(service);
    let descriptor = descriptor(service);
    let client = client(service);
    let server = server(service);
    let checks = checks(service);
    quote! {
        #server_trait
        #descriptor
        #client
        #server
        #checks
    }
}

/// What the compiler checks of the trait's types, each with one targeted error at the type:
/// every error type converts to and from `rpc::Status`, and every argument and result type
/// has a serialization (serde or prost; several arguments travel as a serde tuple).
fn checks(service: &Service) -> TokenStream {
    let checks = service.methods.iter().map(|method| {
        let err = &method.err;
        let error = quote_spanned!(err.span()=> (&::rpc::__private::ErrorProbe::<#err>::new()).check_error(););
        let wire = |ty: &Type| quote_spanned!(ty.span()=> (&&::rpc::__private::WireProbe::<#ty>::new()).check_wire(););
        let tuple =
            |ty: &Type| quote_spanned!(ty.span()=> (&&::rpc::__private::TupleProbe::<#ty>::new()).check_wire(););
        let arguments: Vec<TokenStream> = match (&method.input_stream, method.args.as_slice()) {
            (Some(item), _) => vec![wire(item)],
            (None, [(_, ty)]) => vec![wire(ty)],
            (None, args) => args.iter().map(|(_, ty)| tuple(ty)).collect(),
        };
        let result = match (&method.output_stream, method.oneway) {
            (Some(item), _) => Some(wire(item)),
            (None, false) => Some(wire(&method.ok)),
            (None, true) => None,
        };
        quote!(#error #(#arguments)* #result)
    });
    quote! {
        const _: () = {
            #[allow(unused_imports)]
            use ::rpc::__private::{Convertible as _, Inconvertible as _};
            #[allow(unused_imports)]
            use ::rpc::__private::{SerdeOnly as _, ViaNeither as _, ViaProtobuf as _, ViaSerde as _};
            #[allow(dead_code)]
            fn __rpc_checks() {
                #(#checks)*
            }
        };
    }
}

/// A local `fn __rpc_error(Status) -> E` for a client method whose error type is `err`.
fn error_from_status(err: &Type) -> TokenStream {
    quote! {
        fn __rpc_error(__rpc_status: ::rpc::Status) -> #err {
            #[allow(unused_imports)]
            use ::rpc::__private::{Convertible as _, Inconvertible as _};
            (&::rpc::__private::ErrorProbe::<#err>::new()).error_of(__rpc_status)
        }
    }
}

/// A closure turning a handler's error of type `err` into a `Status`.
fn into_status(err: &Type) -> TokenStream {
    quote! {
        |__rpc_error: #err| {
            #[allow(unused_imports)]
            use ::rpc::__private::{Convertible as _, Inconvertible as _};
            (&::rpc::__private::ErrorProbe::<#err>::new()).status_of(__rpc_error)
        }
    }
}

fn descriptor_ident(service: &Service) -> Ident {
    format_ident!("{}_DESCRIPTOR", upper_snake(&service.item.ident.to_string()))
}

fn upper_snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_uppercase());
    }
    out
}

/// The arguments as one value — `()`, the single argument, or a tuple — as its type and as the
/// pattern (or expression) naming its parts.
fn args_value(method: &Method) -> (TokenStream, TokenStream) {
    match method.args.as_slice() {
        [(name, ty)] => (quote!(#ty), quote!(#name)),
        args => {
            let types = args.iter().map(|(_, ty)| ty);
            let names = args.iter().map(|(name, _)| name);
            (quote!((#(#types,)*)), quote!((#(#names,)*)))
        }
    }
}

/// A function hashing one argument of the method's request body, for consistent hashing:
/// the whole body when there is one argument (no decoding), otherwise the chosen element of
/// the decoded argument tuple, serialized again.
fn arg_key_fn(method: &Method) -> TokenStream {
    let signature = quote! {
        fn __rpc_arg_key(__rpc_request: &::rpc::Request, __rpc_index: usize) -> ::core::option::Option<u64>
    };
    match method.args.as_slice() {
        [] => quote!(#signature { let _ = (__rpc_request, __rpc_index); ::core::option::Option::None }),
        [_] => quote! {
            #signature {
                (__rpc_index == 0).then(|| ::rpc::__private::hash_key(&__rpc_request.body))
            }
        },
        args => {
            let (args_type, _) = args_value(method);
            let arms = args.iter().enumerate().map(|(i, (_, ty))| {
                let field = syn::Index::from(i);
                quote! {
                    #i => ::rpc::__private::__serialize!(__rpc_request.serialization, #ty, &__rpc_args.#field, &mut __rpc_buffer).ok()?,
                }
            });
            quote! {
                #signature {
                    let __rpc_args: #args_type =
                        ::rpc::__private::__deserialize!(__rpc_request.serialization, #args_type, &__rpc_request.body).ok()?;
                    let mut __rpc_buffer = ::rpc::__private::BytesMut::new();
                    match __rpc_index {
                        #(#arms)*
                        _ => return ::core::option::Option::None,
                    }
                    ::core::option::Option::Some(::rpc::__private::hash_key(&__rpc_buffer))
                }
            }
        }
    }
}

/// The user's trait with each `async fn` turned into a `Send` future, as providers need.
fn server_trait(service: &Service) -> TokenStream {
    let mut item = service.item.clone();
    item.supertraits.push(syn::parse_quote!(::core::marker::Send));
    item.supertraits.push(syn::parse_quote!(::core::marker::Sync));
    item.supertraits.push(syn::parse_quote!('static));
    for (trait_item, method) in item.items.iter_mut().zip(&service.methods) {
        let TraitItem::Fn(function) = trait_item else { unreachable!("checked while parsing") };
        let output = &method.output;
        function.sig.asyncness = None;
        function.sig.output =
            syn::parse_quote!(-> impl ::core::future::Future<Output = #output> + ::core::marker::Send);
        if let Some(body) = function.default.take() {
            function.default = Some(syn::parse_quote!({ async move #body }));
        }
    }
    quote!(#item)
}

fn descriptor(service: &Service) -> TokenStream {
    let vis = &service.item.vis;
    let ident = descriptor_ident(service);
    let (name, version) = (&service.name, &service.version);
    let doc = format!("What `{}` offers on the wire: name, version and methods.", service.item.ident);
    let methods = service.methods.iter().map(|m| {
        let (wire, idempotent, oneway) = (&m.wire_name, m.idempotent, m.oneway);
        let kind = format_ident!("{}", m.kind());
        let arguments = m.args.iter().map(|(name, _)| name.to_string());
        let (java_parameters, java_return) = (&m.java_parameters, &m.java_return);
        quote! {
            ::rpc::MethodDescriptor {
                name: #wire,
                arguments: &[#(#arguments),*],
                idempotent: #idempotent,
                oneway: #oneway,
                kind: ::rpc::MethodKind::#kind,
                java_parameters: #java_parameters,
                java_return: #java_return,
            }
        }
    });
    let serialization = match &service.serialization {
        Some(variant) => quote!(::rpc::SerializationId::#variant),
        None => quote!(::rpc::SerializationId::MsgPack),
    };
    quote! {
        #[doc = #doc]
        #vis static #ident: ::rpc::ServiceDescriptor = ::rpc::ServiceDescriptor {
            name: #name,
            version: #version,
            serialization: #serialization,
            methods: &[#(#methods),*],
        };
    }
}

fn client(service: &Service) -> TokenStream {
    let vis = &service.item.vis;
    let trait_ident = &service.item.ident;
    let client = format_ident!("{}Client", trait_ident);
    let descriptor = descriptor_ident(service);
    let streaming_client = streaming_client(service);
    let doc = format!(
        "Typed client of `{trait_ident}`: one method per RPC, sent through any `tower::Service<rpc::Request>` (an `rpc::Channel` by default)."
    );
    let default_options = match &service.serialization {
        Some(variant) => quote!(::rpc::CallOptions::new().serialization(::rpc::SerializationId::#variant)),
        None => quote!(::rpc::CallOptions::default()),
    };
    let methods = service.methods.iter().filter(|m| !m.is_streaming()).map(|method| {
        let Method { ident, wire_name, oneway, docs, ok, err, .. } = method;
        let params = method.args.iter().map(|(name, ty)| quote!(#name: #ty));
        let (args_type, args_pattern) = args_value(method);
        let reply = if *oneway {
            quote!(let _ = __rpc_response; ::core::result::Result::Ok(()))
        } else {
            quote! {
                if let ::core::option::Option::Some(__rpc_status) = __rpc_response.swallowed {
                    // A failsafe/failback cluster ignored an error: the type's default, if any.
                    #[allow(unused_imports)]
                    use ::rpc::__private::{HasDefault as _, NoDefault as _};
                    return (&::rpc::__private::DefaultProbe::<#ok>::new())
                        .value_or(__rpc_status)
                        .map_err(__rpc_error);
                }
                ::rpc::__private::__deserialize!(__rpc_response.serialization, #ok, &__rpc_response.body)
                    .map_err(|e| ::rpc::__private::reply_decode_error(&#descriptor, #wire_name, e))
                    .map_err(__rpc_error)
            }
        };
        let arg_key = arg_key_fn(method);
        let error_from_status = error_from_status(err);
        quote! {
            #(#docs)*
            pub async fn #ident(&self, #(#params),*) -> ::core::result::Result<#ok, #err> {
                #error_from_status
                static __RPC_SIZE: ::rpc::__private::SizeHint = ::rpc::__private::SizeHint::new();
                let __rpc_args: #args_type = #args_pattern;
                let __rpc_serialization = self.options.get_serialization();
                let mut __rpc_body = __RPC_SIZE.buffer();
                ::rpc::__private::__serialize!(__rpc_serialization, #args_type, &__rpc_args, &mut __rpc_body)
                    .map_err(|e| ::rpc::__private::args_encode_error(&#descriptor, #wire_name, e))
                    .map_err(__rpc_error)?;
                let __rpc_body = __RPC_SIZE.finish(__rpc_body);
                #arg_key
                let mut __rpc_service = self.inner.clone();
                ::rpc::__private::ServiceExt::ready(&mut __rpc_service).await.map_err(__rpc_error)?;
                // Built in place, so the request never sits in this future's state.
                let __rpc_response = ::rpc::__private::Service::call(
                    &mut __rpc_service,
                    ::rpc::__private::with_arg_key(
                        self.options.request(&#descriptor, #wire_name, #oneway, __rpc_body),
                        __rpc_arg_key,
                    ),
                )
                .await
                .map_err(__rpc_error)?;
                #reply
            }
        }
    });
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug)]
        #vis struct #client<S = ::rpc::Channel> {
            inner: S,
            options: ::rpc::CallOptions,
        }

        impl #client<::rpc::Channel> {
            /// Connects a channel with default settings to `addr`.
            pub async fn connect(addr: impl ::rpc::__private::ToSocketAddrs) -> ::core::result::Result<Self, ::rpc::Status> {
                ::core::result::Result::Ok(Self::new(::rpc::Channel::connect(addr).await?))
            }
        }

        impl<S> #client<S>
        where
            S: ::rpc::__private::Service<::rpc::Request, Response = ::rpc::Response, Error = ::rpc::Status> + ::core::clone::Clone,
        {
            /// A client over `inner`, with the service's default call options.
            pub fn new(inner: S) -> Self {
                Self { inner, options: #default_options }
            }

            /// A client sharing this one's channel whose calls use `options` (timeout,
            /// serialization, attachments, version, group).
            pub fn with_options(&self, options: ::rpc::CallOptions) -> Self {
                Self { inner: self.inner.clone(), options }
            }

            pub fn options(&self) -> &::rpc::CallOptions {
                &self.options
            }

            pub fn into_inner(self) -> S {
                self.inner
            }

            #(#methods)*
        }

        #streaming_client
    }
}

/// The client's streaming methods: the request carries the outbound messages and the
/// response the replies, through the same `Service` (and its layers) as unary calls.
fn streaming_client(service: &Service) -> TokenStream {
    let streaming: Vec<&Method> = service.methods.iter().filter(|m| m.is_streaming()).collect();
    if streaming.is_empty() {
        return TokenStream::new();
    }
    let client = format_ident!("{}Client", service.item.ident);
    let descriptor = descriptor_ident(service);
    let methods = streaming.iter().map(|method| {
        let Method { ident, wire_name, docs, err, ok, .. } = method;
        let error_from_status = error_from_status(err);
        let (params, outbound) = match &method.input_stream {
            Some(item) => {
                let (name, _) = &method.args[0];
                let params =
                    quote!(#name: impl ::rpc::__private::Stream<Item = #item> + ::core::marker::Send + 'static);
                let outbound = quote! {
                    let __rpc_outbound = ::rpc::__private::encode_stream(#name, move |__rpc_value: &#item| {
                        let mut __rpc_body = ::rpc::__private::BytesMut::new();
                        ::rpc::__private::__serialize!(__rpc_serialization, #item, __rpc_value, &mut __rpc_body)
                            .map_err(|e| ::rpc::__private::args_encode_error(&#descriptor, #wire_name, e))?;
                        ::core::result::Result::Ok(__rpc_body.freeze())
                    });
                };
                (params, outbound)
            }
            None => {
                let params = method.args.iter().map(|(name, ty)| quote!(#name: #ty));
                let (args_type, args_pattern) = args_value(method);
                let outbound = quote! {
                    let __rpc_args: #args_type = #args_pattern;
                    let mut __rpc_body = ::rpc::__private::BytesMut::new();
                    ::rpc::__private::__serialize!(__rpc_serialization, #args_type, &__rpc_args, &mut __rpc_body)
                        .map_err(|e| ::rpc::__private::args_encode_error(&#descriptor, #wire_name, e))
                        .map_err(__rpc_error)?;
                    let __rpc_outbound = ::rpc::__private::single_message(__rpc_body.freeze());
                };
                (quote!(#(#params),*), outbound)
            }
        };
        let (returns, reply) = match &method.output_stream {
            Some(item) => (
                quote!(::rpc::Streaming<#item>),
                quote! {
                    ::core::result::Result::Ok(::rpc::Streaming::decode(__rpc_replies, move |__rpc_bytes| {
                        ::rpc::__private::__deserialize!(__rpc_serialization, #item, __rpc_bytes)
                            .map_err(|e| ::rpc::__private::reply_decode_error(&#descriptor, #wire_name, e))
                    }))
                },
            ),
            None => (
                quote!(#ok),
                quote! {
                    let __rpc_reply =
                        ::rpc::__private::first_message(__rpc_replies, &#descriptor, #wire_name, "reply")
                            .await
                            .map_err(__rpc_error)?;
                    ::rpc::__private::__deserialize!(__rpc_serialization, #ok, &__rpc_reply)
                        .map_err(|e| ::rpc::__private::reply_decode_error(&#descriptor, #wire_name, e))
                        .map_err(__rpc_error)
                },
            ),
        };
        quote! {
            #(#docs)*
            pub async fn #ident(&self, #params) -> ::core::result::Result<#returns, #err> {
                #error_from_status
                let __rpc_serialization = self.options.get_serialization();
                #outbound
                let __rpc_request =
                    self.options.request(&#descriptor, #wire_name, false, ::rpc::__private::Bytes::new());
                let __rpc_replies =
                    ::rpc::__private::call_streaming(self.inner.clone(), __rpc_request.with_messages(__rpc_outbound))
                        .await
                        .map_err(__rpc_error)?;
                #reply
            }
        }
    });
    quote! {
        impl<S> #client<S>
        where
            S: ::rpc::__private::Service<::rpc::Request, Response = ::rpc::Response, Error = ::rpc::Status>
                + ::core::clone::Clone,
        {
            #(#methods)*
        }
    }
}

fn server(service: &Service) -> TokenStream {
    let vis = &service.item.vis;
    let trait_ident = &service.item.ident;
    let server = format_ident!("{}Server", trait_ident);
    let descriptor = descriptor_ident(service);
    let doc = format!("Serves a `{trait_ident}` implementation: add it to an `rpc::Server`.");
    let arms = service.methods.iter().map(|method| {
        let Method { ident, wire_name, ok, err, .. } = method;
        let into_status = into_status(err);
        if method.is_streaming() {
            return quote! {
                #wire_name => {
                    let __rpc_status = ::rpc::__private::streaming_only(&#descriptor, #wire_name);
                    ::rpc::CallFuture::from(::core::future::ready(::core::result::Result::Err(__rpc_status)))
                }
            };
        }
        let (args_type, args_pattern) = args_value(method);
        let arg_names = method.args.iter().map(|(name, _)| name);
        let unit: Type = syn::parse_quote!(());
        let result_type = if method.oneway { &unit } else { ok };
        quote! {
            #wire_name => {
                // Decoded before the future is made, so the future holds the arguments but not
                // the request: it stays small enough to live in place, and moves cheaply.
                let mut __rpc_request = __rpc_request;
                let __rpc_serialization = __rpc_request.serialization;
                let __rpc_context = ::rpc::CallContext::take_from(&mut __rpc_request);
                let #args_pattern: #args_type =
                    match ::rpc::__private::__deserialize!(__rpc_serialization, #args_type, &__rpc_request.body) {
                        ::core::result::Result::Ok(__rpc_args) => __rpc_args,
                        ::core::result::Result::Err(e) => {
                            let __rpc_status = ::rpc::__private::args_decode_error(&#descriptor, #wire_name, e);
                            return ::rpc::CallFuture::from(::core::future::ready(::core::result::Result::Err(__rpc_status)));
                        }
                    };
                ::core::mem::drop(__rpc_request);
                ::rpc::CallFuture::from_or_box(async move {
                let __rpc_result: #result_type = __rpc_context.scope(__rpc_inner.#ident(#(#arg_names),*)).await.map_err(#into_status)?;
                static __RPC_SIZE: ::rpc::__private::SizeHint = ::rpc::__private::SizeHint::new();
                let mut __rpc_body = __RPC_SIZE.buffer();
                ::rpc::__private::__serialize!(__rpc_serialization, #result_type, &__rpc_result, &mut __rpc_body)
                    .map_err(|e| ::rpc::__private::reply_encode_error(&#descriptor, #wire_name, e))?;
                ::core::result::Result::Ok(::rpc::Response::new(__rpc_serialization, __RPC_SIZE.finish(__rpc_body)))
                })
            }
        }
    });
    let call_streaming = server_streaming(service);
    quote! {
        #[doc = #doc]
        #vis struct #server<T> {
            inner: ::std::sync::Arc<T>,
        }

        impl<T: #trait_ident> #server<T> {
            pub fn new(inner: T) -> Self {
                Self { inner: ::std::sync::Arc::new(inner) }
            }

            pub fn from_arc(inner: ::std::sync::Arc<T>) -> Self {
                Self { inner }
            }
        }

        impl<T> ::core::clone::Clone for #server<T> {
            fn clone(&self) -> Self {
                Self { inner: self.inner.clone() }
            }
        }

        impl<T: #trait_ident> ::rpc::RpcService for #server<T> {
            fn descriptor(&self) -> &'static ::rpc::ServiceDescriptor {
                &#descriptor
            }

            fn call(&self, __rpc_request: ::rpc::Request) -> ::rpc::CallFuture {
                let __rpc_inner = self.inner.clone();
                match __rpc_request.method() {
                    #(#arms)*
                    __rpc_other => {
                        let __rpc_status = ::rpc::__private::unknown_method(&#descriptor, __rpc_other);
                        ::rpc::CallFuture::from(::core::future::ready(::core::result::Result::Err(__rpc_status)))
                    }
                }
            }

            #call_streaming
        }
    }
}

/// `RpcService::call_streaming` for a service with streaming methods (nothing otherwise: the
/// default answers `Unimplemented`).
fn server_streaming(service: &Service) -> TokenStream {
    let streaming: Vec<&Method> = service.methods.iter().filter(|m| m.is_streaming()).collect();
    if streaming.is_empty() {
        return TokenStream::new();
    }
    let descriptor = descriptor_ident(service);
    let arms = streaming.iter().map(|method| {
        let Method { ident, wire_name, ok, err, .. } = method;
        let into_status = into_status(err);
        let arg_names = method.args.iter().map(|(name, _)| name);
        let input = match &method.input_stream {
            Some(item) => {
                let (name, _) = &method.args[0];
                quote! {
                    let #name: ::rpc::Streaming<#item> = ::rpc::Streaming::decode(__rpc_inbound, move |__rpc_bytes| {
                        ::rpc::__private::__deserialize!(__rpc_serialization, #item, __rpc_bytes)
                            .map_err(|e| ::rpc::__private::args_decode_error(&#descriptor, #wire_name, e))
                    });
                }
            }
            None => {
                let (args_type, args_pattern) = args_value(method);
                quote! {
                    let __rpc_first =
                        ::rpc::__private::first_message(__rpc_inbound, &#descriptor, #wire_name, "request").await?;
                    let #args_pattern: #args_type =
                        ::rpc::__private::__deserialize!(__rpc_serialization, #args_type, &__rpc_first)
                            .map_err(|e| ::rpc::__private::args_decode_error(&#descriptor, #wire_name, e))?;
                }
            }
        };
        let output = match &method.output_stream {
            Some(item) => quote! {
                ::core::result::Result::Ok(__rpc_result.encode(move |__rpc_value: &#item| {
                    let mut __rpc_body = ::rpc::__private::BytesMut::new();
                    ::rpc::__private::__serialize!(__rpc_serialization, #item, __rpc_value, &mut __rpc_body)
                        .map_err(|e| ::rpc::__private::reply_encode_error(&#descriptor, #wire_name, e))?;
                    ::core::result::Result::Ok(__rpc_body.freeze())
                }))
            },
            None => quote! {
                let mut __rpc_body = ::rpc::__private::BytesMut::new();
                ::rpc::__private::__serialize!(__rpc_serialization, #ok, &__rpc_result, &mut __rpc_body)
                    .map_err(|e| ::rpc::__private::reply_encode_error(&#descriptor, #wire_name, e))?;
                ::core::result::Result::Ok(::rpc::__private::single_message(__rpc_body.freeze()))
            },
        };
        quote! {
            #wire_name => {
                let mut __rpc_request = __rpc_request;
                let __rpc_serialization = __rpc_request.serialization;
                let __rpc_context = ::rpc::CallContext::take_from(&mut __rpc_request);
                ::std::boxed::Box::pin(async move {
                    #input
                    let __rpc_result = __rpc_context
                        .scope(__rpc_inner.#ident(#(#arg_names),*))
                        .await
                        .map_err(#into_status)?;
                    #output
                })
            }
        }
    });
    quote! {
        fn call_streaming(
            &self,
            __rpc_request: ::rpc::Request,
            __rpc_inbound: ::rpc::MessageStream,
        ) -> ::rpc::BoxFuture<::core::result::Result<::rpc::MessageStream, ::rpc::Status>> {
            let __rpc_inner = self.inner.clone();
            match __rpc_request.method() {
                #(#arms)*
                __rpc_other => {
                    let __rpc_status = ::rpc::__private::unknown_method(&#descriptor, __rpc_other);
                    ::std::boxed::Box::pin(::core::future::ready(::core::result::Result::Err(__rpc_status)))
                }
            }
        }
    }
}
