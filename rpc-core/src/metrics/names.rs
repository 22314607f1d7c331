//! The series' names in each naming scheme, per side.

/// Which end of a call a layer measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
    /// The provider: calls it answered.
    Server,
    /// The consumer: calls it made.
    Client,
}

/// `rpc_{side}_…` names, labelled `service`, `method` and (requests) `code`.
pub(super) struct RpcNames {
    pub(super) requests: &'static str,
    pub(super) duration: &'static str,
    pub(super) in_flight: &'static str,
}

pub(super) const RPC_SERVER: RpcNames = RpcNames {
    requests: "rpc_server_requests_total",
    duration: "rpc_server_request_duration_seconds",
    in_flight: "rpc_server_requests_in_flight",
};

pub(super) const RPC_CLIENT: RpcNames = RpcNames {
    requests: "rpc_client_requests_total",
    duration: "rpc_client_request_duration_seconds",
    in_flight: "rpc_client_requests_in_flight",
};

/// Apache Dubbo's names (its `MetricsKey`, Micrometer's dots as underscores), labelled
/// `application_name`, `interface`, `method`, `group` and `version`.
pub(super) struct DubboNames {
    pub(super) total: &'static str,
    pub(super) succeed: &'static str,
    pub(super) failed: &'static str,
    pub(super) processing: &'static str,
    pub(super) timeout: &'static str,
    pub(super) limit: &'static str,
    pub(super) service_unavailable: &'static str,
    pub(super) business_failed: &'static str,
    pub(super) unknown_failed: &'static str,
    pub(super) rt_last: &'static str,
    pub(super) rt_histogram: &'static str,
}

pub(super) const DUBBO_PROVIDER: DubboNames = DubboNames {
    total: "dubbo_provider_requests_total",
    succeed: "dubbo_provider_requests_succeed_total",
    failed: "dubbo_provider_requests_failed_total",
    processing: "dubbo_provider_requests_processing_total",
    timeout: "dubbo_provider_requests_timeout_total",
    limit: "dubbo_provider_requests_limit_total",
    service_unavailable: "dubbo_provider_requests_failed_service_unavailable_total",
    business_failed: "dubbo_provider_requests_business_failed_total",
    unknown_failed: "dubbo_provider_requests_unknown_failed_total",
    rt_last: "dubbo_provider_rt_milliseconds_last",
    rt_histogram: "dubbo_provider_rt_milliseconds_histogram_seconds",
};

pub(super) const DUBBO_CONSUMER: DubboNames = DubboNames {
    total: "dubbo_consumer_requests_total",
    succeed: "dubbo_consumer_requests_succeed_total",
    failed: "dubbo_consumer_requests_failed_total",
    processing: "dubbo_consumer_requests_processing_total",
    timeout: "dubbo_consumer_requests_timeout_total",
    limit: "dubbo_consumer_requests_limit_total",
    service_unavailable: "dubbo_consumer_requests_failed_service_unavailable_total",
    business_failed: "dubbo_consumer_requests_business_failed_total",
    unknown_failed: "dubbo_consumer_requests_unknown_failed_total",
    rt_last: "dubbo_consumer_rt_milliseconds_last",
    rt_histogram: "dubbo_consumer_rt_milliseconds_histogram_seconds",
};

/// How a layer names its series.
#[derive(Clone, Debug)]
pub(super) enum Naming {
    Rpc,
    Dubbo { application: String },
}
