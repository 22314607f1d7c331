//! How this process names itself in a registry: its application (Dubbo's `application`,
//! which tag and condition routing key on) and the host address a consumer registers from.

/// The executable's name, as the application name when none is given.
pub(crate) fn default_application() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| path.file_stem().map(|stem| stem.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "rpc-application".into())
}

/// This host's address on its default route (found without sending anything: connecting a
/// UDP socket only picks the route), or loopback where there is none.
pub(crate) fn local_ip() -> std::net::IpAddr {
    let routed = std::net::UdpSocket::bind(("0.0.0.0", 0)).and_then(|socket| {
        socket.connect(("192.0.2.1", 9))?;
        socket.local_addr()
    });
    match routed {
        Ok(addr) if !addr.ip().is_unspecified() => addr.ip(),
        _ => std::net::Ipv4Addr::LOCALHOST.into(),
    }
}
