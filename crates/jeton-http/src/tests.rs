use super::*;

#[test]
fn diagnostic_chain_lists_sources() {
    let e = jeton::StoreError::new(std::io::Error::other("db down"));
    assert_eq!(Chain(&e).to_string(), "storage back end failed: db down");
}

#[test]
fn each_engine_header_reaches_its_own_field_with_every_value() {
    // A different count of each, interleaved with headers the engine does not read, so
    // that a value handed to the wrong field shows in the request's counts.
    let mut req = http::Request::builder().method("POST").uri("/token?a=b");
    let sent: [(&str, &[&str]); 5] = [
        ("content-type", &["application/x-www-form-urlencoded"]),
        ("authorization", &["Basic YTpi", "Basic YzpK"]),
        ("x-forwarded-proto", &["https", "http", "https"]),
        (
            "x-forwarded-for",
            &["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"],
        ),
        ("dpop", &["a", "b", "c", "d", "e"]),
    ];
    for (name, values) in sent.iter().rev() {
        for value in *values {
            req = req.header("accept", "*/*").header(*name, *value);
        }
    }
    let (parts, ()) = req.body(()).unwrap().into_parts();
    let body = ReadBody::Complete(Bytes::from_static(b"x=1"));
    let now = OffsetDateTime::UNIX_EPOCH;
    let peer = Some(SocketAddr::from(([127, 0, 0, 1], 9)));
    let got = raw_request(&parts, &body, peer, now);
    let mut expected = RawRequest::new("POST", b"x=1", now)
        .query(Some("a=b"))
        .peer(Some([127, 0, 0, 1].into()));
    for (name, values) in sent {
        for value in values {
            let value = value.as_bytes();
            expected = match name {
                "content-type" => expected.content_type(value),
                "authorization" => expected.authorization(value),
                "x-forwarded-proto" => expected.forwarded_proto(value),
                "x-forwarded-for" => expected.forwarded_for(value),
                _ => expected.dpop(value),
            };
        }
    }
    assert_eq!(format!("{got:?}"), format!("{expected:?}"));
    // In the order sent: the first value is the first sent.
    let dpop: jeton::HeaderValues = [&b"a"[..], b"b", b"c", b"d", b"e"].into_iter().collect();
    assert!(*got.dpop_values() == dpop);
}

#[test]
fn rfc9700_4_13_forwarded_proto_reaches_the_core_as_sent() {
    jeton_testkit::http::forwarded_proto_decides_as_the_core(admits_headers);
}

/// A body handing over its frames one poll at a time.
struct Frames(std::collections::VecDeque<http_body::Frame<Bytes>>);

impl Body for Frames {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop_front().map(Ok))
    }
}

fn read(chunks: &[&'static [u8]], trailers: bool, limit: usize) -> ReadBody {
    let mut frames: std::collections::VecDeque<_> = chunks
        .iter()
        .map(|c| http_body::Frame::data(Bytes::from_static(c)))
        .collect();
    if trailers {
        frames.push_back(http_body::Frame::trailers(HeaderMap::new()));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(read_body(Frames(frames), &HeaderMap::new(), limit))
}

#[test]
fn bodies_are_read_whole_in_one_frame_or_many() {
    let one = read(&[b"grant_type=client_credentials"], false, 100);
    assert_eq!(one.bytes(), b"grant_type=client_credentials");
    let three = read(&[b"grant_type=", b"client_", b"credentials"], true, 100);
    assert_eq!(three.bytes(), b"grant_type=client_credentials");
    assert_eq!(read(&[], false, 100).bytes(), b"");
    assert!(matches!(
        read(&[b"0123456789", b"0123456789"], false, 15),
        ReadBody::TooLarge
    ));
}

#[test]
fn engine_headers_name_the_same_header_twice() {
    for header in &ENGINE_HEADERS {
        assert_eq!(header.http.as_str(), header.name);
    }
}

#[test]
fn ready_response_header_names_are_the_parsed_ones() {
    for &name in jeton::Response::HEADER_NAMES.iter().chain(&["x-other"]) {
        let parsed = HeaderName::from_bytes(name.as_bytes()).unwrap();
        assert_eq!(header_name(name).unwrap(), parsed, "{name}");
    }
    assert!(header_name("bad name").is_err());
}

#[test]
fn a_framework_adding_content_length_does_not_regrow_the_headers() {
    for outcome in jeton_testkit::Fixture::new().issued_and_refused() {
        let mut resp: http::Response<Vec<u8>> = to_http(&outcome.response);
        let room = resp.headers().capacity();
        resp.headers_mut()
            .insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("9"));
        assert_eq!(resp.headers().capacity(), room);
    }
}

#[test]
fn core_responses_are_copied_verbatim() {
    for outcome in jeton_testkit::Fixture::new().issued_and_refused() {
        let core = &outcome.response;
        let resp: http::Response<Vec<u8>> = to_http(core);
        assert_eq!(resp.status().as_u16(), core.status());
        assert_eq!(resp.headers().len(), core.headers().len());
        // Fixed values (`Cache-Control`) and made ones (the 401's `WWW-Authenticate`) alike.
        for (name, value) in core.headers() {
            let got: Vec<_> = resp.headers().get_all(*name).iter().collect();
            assert_eq!(got, [HeaderValue::from_str(value).unwrap()], "{name}");
        }
        assert_eq!(resp.body().as_slice(), core.body());
    }
}
