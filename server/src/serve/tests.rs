//! Tests of `serve`.

use super::*;

#[test]
fn the_cap_counts_per_address_and_frees_on_close() {
    let peers = Arc::new(PeerCounts::new(2));
    let a: IpAddr = "127.0.0.1".parse().unwrap();
    let b: IpAddr = "127.0.0.2".parse().unwrap();
    let first = peers.admit(a).unwrap();
    let _second = peers.admit(a).unwrap();
    assert!(peers.admit(a).is_none());
    assert!(peers.admit(b).is_some(), "another address is not refused");
    drop(first);
    assert!(peers.admit(a).is_some());
    let unlimited = Arc::new(PeerCounts::new(0));
    let held: Vec<_> = (0..1000).filter_map(|_| unlimited.admit(a)).collect();
    assert_eq!(held.len(), 1000);
}

#[test]
fn an_ipv6_client_counts_as_its_slash_64() {
    let peers = Arc::new(PeerCounts::new(1));
    let _one = peers.admit("2001:db8::1".parse().unwrap()).unwrap();
    assert!(peers.admit("2001:db8::2".parse().unwrap()).is_none());
    assert!(peers.admit("2001:db8:0:1::1".parse().unwrap()).is_some());
}

#[test]
fn warnings_are_rate_limited_and_count_what_they_skipped() {
    let mut warning = RateLimitedWarning::default();
    assert_eq!(warning.due(), Some(1));
    assert_eq!(warning.due(), None);
    assert_eq!(warning.due(), None);
    warning.last = Some(Instant::now() - WARN_EVERY);
    assert_eq!(warning.due(), Some(3));
}

#[test]
fn idle_then_header_then_in_flight() {
    let limits = Limits {
        header: Duration::from_millis(50),
        body: Duration::from_secs(1),
        idle: Duration::from_millis(200),
        per_address: 0,
    };
    let activity = Arc::new(Activity::new());
    // Nothing read yet: the idle limit applies.
    let wake = activity.check(&limits).unwrap();
    assert!(
        wake >= activity.epoch + Duration::from_millis(150),
        "{wake:?}"
    );
    // A byte of a head: the header limit applies from it.
    activity.read();
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(activity.check(&limits), Err(Expired::Header));
    // The head is complete: nothing expires while the request is handled.
    let in_flight = activity.request_started();
    std::thread::sleep(Duration::from_millis(60));
    assert!(activity.check(&limits).is_ok());
    activity.read(); // body bytes do not start a head
    drop(in_flight);
    assert!(activity.check(&limits).is_ok());
    std::thread::sleep(Duration::from_millis(210));
    assert_eq!(activity.check(&limits), Err(Expired::Idle));
}

#[tokio::test]
async fn a_body_that_misses_its_deadline_is_an_error() {
    use http_body_util::BodyExt;
    let never = futures_util::stream::pending::<Result<Frame<Bytes>, BoxError>>();
    let body = DeadlineBody::new(
        http_body_util::StreamBody::new(never),
        Duration::from_millis(30),
    );
    let err = body.collect().await.unwrap_err();
    assert!(err.is::<BodyTimeout>(), "{err}");
    let full = http_body_util::Full::new(Bytes::from_static(b"ok"));
    let body = DeadlineBody::new(full, Duration::from_millis(30));
    let bytes = body.collect().await.unwrap().to_bytes();
    assert_eq!(&bytes[..], b"ok");
}
