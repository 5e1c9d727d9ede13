//! The environment as AWS's SDKs read it: a variable set to nothing is unset, the region is
//! `AWS_REGION` else `AWS_DEFAULT_REGION`, and credentials are a key pair or nothing. The
//! SDK's configuration (`sdk`), the signed calls' credentials (`signed`), the secret's and the
//! management API's regions all read it here, so they cannot disagree.

/// The variables `var` gives (`std::env::var(name).ok()` at cold start, a table in tests).
pub(crate) struct Env<F>(pub(crate) F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// The value of `name`, unless it is unset or empty.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.is_empty())
    }

    /// Whether `name` has a value that is not empty.
    pub(crate) fn is_set(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`: the first two places the SDKs' default chain
    /// looks, and on Lambda always the first.
    pub(crate) fn region(&self) -> Option<String> {
        self.get("AWS_REGION")
            .or_else(|| self.get("AWS_DEFAULT_REGION"))
    }

    /// Whether `name` is `true`, in any case, as the SDKs read their switches.
    #[cfg(any(feature = "secrets-manager", feature = "dynamodb"))]
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// The address a service's own variable (`AWS_ENDPOINT_URL_SECRETS_MANAGER`) gives, else
    /// `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true: a local
    /// emulator's, as the SDKs read them. (The management API's address is the WebSocket API's
    /// own, or `ARC_WSS_URL`: `crate::ws`.)
    #[cfg(any(feature = "secrets-manager", feature = "dynamodb"))]
    pub(crate) fn configured_endpoint(&self, service_variable: &str) -> Option<String> {
        if self.flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
            return None;
        }
        self.get(service_variable)
            .or_else(|| self.get("AWS_ENDPOINT_URL"))
    }

    /// Where calls to `service` in `region` go, ending in `/`: the address
    /// [`Env::configured_endpoint`] gives for `service_variable`, else the region's
    /// ([`Env::regional_endpoint`]).
    #[cfg(any(feature = "secrets-manager", feature = "dynamodb"))]
    pub(crate) fn endpoint(&self, service_variable: &str, service: &str, region: &str) -> String {
        match self.configured_endpoint(service_variable) {
            Some(url) if url.ends_with('/') => url,
            Some(url) => format!("{url}/"),
            None => self.regional_endpoint(service, region),
        }
    }

    /// The address of `service` (`secretsmanager`) in `region` as the SDKs' endpoint rules
    /// write it: `https://{service}.{region}.{suffix}/`, the suffix the region's partition's
    /// (`amazonaws.com`, `amazonaws.com.cn`, `amazonaws.eu`), with `-fips` after the service
    /// when `AWS_USE_FIPS_ENDPOINT` is true, and the partition's dual-stack suffix (`api.aws`,
    /// reached over IPv6 too) when `AWS_USE_DUALSTACK_ENDPOINT` is.
    #[cfg(any(feature = "secrets-manager", feature = "dynamodb"))]
    pub(crate) fn regional_endpoint(&self, service: &str, region: &str) -> String {
        let (suffix, dual_stack_suffix) = if region.starts_with("cn-") {
            ("amazonaws.com.cn", "api.amazonwebservices.com.cn")
        } else if region.starts_with("eusc-") {
            ("amazonaws.eu", "api.amazonwebservices.eu")
        } else {
            ("amazonaws.com", "api.aws")
        };
        let fips = if self.flag("AWS_USE_FIPS_ENDPOINT") {
            "-fips"
        } else {
            ""
        };
        let suffix = if self.flag("AWS_USE_DUALSTACK_ENDPOINT") {
            dual_stack_suffix
        } else {
            suffix
        };
        format!("https://{service}{fips}.{region}.{suffix}/")
    }

    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, when both are set, as Lambda sets them.
    pub(crate) fn key_pair(&self) -> Option<(String, String)> {
        Some((
            self.get("AWS_ACCESS_KEY_ID")?,
            self.get("AWS_SECRET_ACCESS_KEY")?,
        ))
    }
}

/// A table of variables as the environment, for tests: the last pair of a name wins, so a
/// test can change a base table by adding to its end.
#[cfg(test)]
pub(crate) fn table<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        pairs
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> Env<impl Fn(&str) -> Option<String> + 'a> {
        Env(table(vars))
    }

    #[test]
    fn the_last_pair_of_a_name_wins() {
        let vars = env(&[("A", "first"), ("B", "b"), ("A", "last")]);
        assert_eq!(vars.get("A").as_deref(), Some("last"));
        assert_eq!(vars.get("B").as_deref(), Some("b"));
    }

    #[test]
    fn an_empty_value_is_unset() {
        let vars = env(&[("SET", "x"), ("EMPTY", "")]);
        assert_eq!(vars.get("SET").as_deref(), Some("x"));
        assert_eq!(vars.get("EMPTY"), None);
        assert_eq!(vars.get("MISSING"), None);
        assert!(vars.is_set("SET"));
        assert!(!vars.is_set("EMPTY"));
        assert!(!vars.is_set("MISSING"));
    }

    #[test]
    fn the_region_is_aws_region_else_the_default_one() {
        let both = [
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "us-west-2"),
        ];
        assert_eq!(env(&both).region().as_deref(), Some("eu-west-1"));
        let blank = [("AWS_REGION", ""), ("AWS_DEFAULT_REGION", "us-west-2")];
        assert_eq!(env(&blank).region().as_deref(), Some("us-west-2"));
        assert_eq!(env(&[("AWS_DEFAULT_REGION", "")]).region(), None);
        assert_eq!(env(&[]).region(), None);
    }

    #[cfg(feature = "secrets-manager")]
    #[test]
    fn a_flag_is_true_in_any_case_and_nothing_else() {
        let vars = env(&[("A", "true"), ("B", "TRUE"), ("C", "1"), ("D", "false")]);
        assert!(vars.flag("A"));
        assert!(vars.flag("B"));
        assert!(!vars.flag("C"), "the SDKs take no other spelling");
        assert!(!vars.flag("D"));
        assert!(!vars.flag("E"));
    }

    #[cfg(feature = "secrets-manager")]
    #[test]
    fn endpoints_follow_the_partition_fips_and_dual_stack() {
        let at = |vars: &[(&str, &str)], region: &str| env(vars).regional_endpoint("sm", region);
        assert_eq!(at(&[], "eu-west-1"), "https://sm.eu-west-1.amazonaws.com/");
        assert_eq!(
            at(&[], "us-gov-west-1"),
            "https://sm.us-gov-west-1.amazonaws.com/"
        );
        assert_eq!(
            at(&[], "cn-north-1"),
            "https://sm.cn-north-1.amazonaws.com.cn/"
        );
        assert_eq!(
            at(&[], "eusc-de-east-1"),
            "https://sm.eusc-de-east-1.amazonaws.eu/"
        );
        let fips = [("AWS_USE_FIPS_ENDPOINT", "true")];
        assert_eq!(
            at(&fips, "us-east-1"),
            "https://sm-fips.us-east-1.amazonaws.com/"
        );
        let dual = [("AWS_USE_DUALSTACK_ENDPOINT", "true")];
        assert_eq!(at(&dual, "us-east-1"), "https://sm.us-east-1.api.aws/");
        assert_eq!(
            at(&dual, "cn-northwest-1"),
            "https://sm.cn-northwest-1.api.amazonwebservices.com.cn/"
        );
        assert_eq!(
            at(&dual, "eusc-de-east-1"),
            "https://sm.eusc-de-east-1.api.amazonwebservices.eu/"
        );
        let both = [
            ("AWS_USE_FIPS_ENDPOINT", "True"),
            ("AWS_USE_DUALSTACK_ENDPOINT", "TRUE"),
        ];
        assert_eq!(at(&both, "us-west-2"), "https://sm-fips.us-west-2.api.aws/");
        let off = [
            ("AWS_USE_FIPS_ENDPOINT", "false"),
            ("AWS_USE_DUALSTACK_ENDPOINT", "false"),
        ];
        assert_eq!(at(&off, "us-west-2"), "https://sm.us-west-2.amazonaws.com/");
    }

    #[cfg(feature = "secrets-manager")]
    #[test]
    fn the_services_endpoint_variable_comes_before_the_general_one() {
        const SERVICE: &str = "AWS_ENDPOINT_URL_SECRETS_MANAGER";
        let at = |vars: &[(&str, &str)]| env(vars).configured_endpoint(SERVICE);
        assert_eq!(at(&[]), None);
        assert_eq!(
            at(&[("AWS_ENDPOINT_URL", "http://a")]).as_deref(),
            Some("http://a")
        );
        let both = [("AWS_ENDPOINT_URL", "http://a"), (SERVICE, "http://b")];
        assert_eq!(at(&both).as_deref(), Some("http://b"));
        let blank = [("AWS_ENDPOINT_URL", "http://a"), (SERVICE, "")];
        assert_eq!(
            at(&blank).as_deref(),
            Some("http://a"),
            "an empty variable is unset"
        );
        for ignore in ["true", "TRUE"] {
            let ignored = [
                (SERVICE, "http://b"),
                ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", ignore),
            ];
            assert_eq!(at(&ignored), None);
        }
        let kept = [
            (SERVICE, "http://b"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"),
        ];
        assert_eq!(at(&kept).as_deref(), Some("http://b"));
    }

    #[test]
    fn credentials_are_both_keys_or_none() {
        let both = [
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ];
        assert_eq!(
            env(&both).key_pair(),
            Some(("AKID".to_owned(), "secret".to_owned()))
        );
        assert_eq!(env(&both[..1]).key_pair(), None);
        assert_eq!(env(&both[1..]).key_pair(), None);
        let blank = [("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "")];
        assert_eq!(env(&blank).key_pair(), None);
    }
}
