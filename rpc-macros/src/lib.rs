//! `#[rpc::service]`: from one trait, a server trait, a typed client, a dispatcher and a
//! descriptor. Use it through the `rpc` crate; the generated code names only `::rpc::…` paths.

#![warn(missing_docs)]

mod expand;
mod java;
mod parse;

use proc_macro::TokenStream;

/// Use it as `#[rpc::service]`, through the `rpc` crate, whose documentation of it is the
/// full one.
#[proc_macro_attribute]
pub fn service(args: TokenStream, input: TokenStream) -> TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    let item = syn::parse_macro_input!(input as syn::ItemTrait);
    match parse::Service::from_trait(args, item) {
        Ok(service) => expand::expand(&service).into(),
        Err(error) => error.to_compile_error().into(),
    }
}
