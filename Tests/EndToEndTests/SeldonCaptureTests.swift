import DriftCapture
import DriftCore
import DriftStore
import DriftTestSupport
import Foundation
import Testing

/// A monitor of the Seldon "income" graph and of the KServe "fraud" service, with role rules by model version.
private let monitorsYAML = """
    monitors:
      - name: income
        model: income
        window: PT1H
        features:
          - {name: age, kind: numeric}
          - {name: hours, kind: numeric}
          - {name: p_yes, kind: numeric, source: output, key: "t:1"}
        reference: {rolling: {offset: P7D}}
      - name: fraud
        model: fraud
        window: PT1H
        features:
          - {name: amount, kind: numeric}
          - {name: score, kind: numeric, source: output}
        reference: {rolling: {offset: P7D}}
        capture:
          roles:
            - {role: challenger, model_version: "2"}
    """

private func kserveEvent(
    _ type: String, id: String, component: String? = "predictor", source: String = "fraud-predictor-00001-pod",
    body: String
) throws -> InferenceCloudEvent {
    var headers = [
        ("ce-specversion", "1.0"), ("ce-type", "org.kubeflow.serving.inference.\(type)"), ("ce-id", id),
        ("ce-source", source), ("ce-inferenceservicename", "fraud")
    ]
    if let component { headers.append(("ce-component", component)) }
    return try InferenceCloudEvent.binary(headers: headers, body: Data(body.utf8))
}

private let oipRequest = #"{"inputs":[{"name":"amount","shape":[1],"datatype":"FP64","data":[12.5]}]}"#
private func oipResponse(version: String) -> String {
    #"{"model_name":"fraud","model_version":"\#(version)","outputs":[{"name":"score","shape":[1],"datatype":"FP64","data":[0.25]}]}"#
}

@Suite("Seldon capture: pairing on Ce-Requestid, component selection, model version inheritance")
struct SeldonCaptureTests {
    static func capture(_ yaml: String = monitorsYAML) throws -> ServingCapture {
        ServingCapture(monitors: try MonitorsFile.parse(yaml, file: "monitors.yaml"))
    }

    @Test func aRequestWithoutVersionTakesItsResponsesVersionAndRole() throws {
        let capture = try Self.capture()
        // the first pair of a pod: the request comes first and names no version, so it cannot know it yet
        let r0 = try capture.events(from: kserveEvent("request", id: "a", body: oipRequest))
        let s0 = try capture.events(from: kserveEvent("response", id: "a", body: oipResponse(version: "2")))
        #expect(r0.events[0].modelVersion == "" && s0.events[0].modelVersion == "2", "the residual case: documented")
        // from then on the pod's requests carry the version its responses name, and the role the rule gives it
        let r1 = try capture.events(from: kserveEvent("request", id: "b", body: oipRequest))
        let s1 = try capture.events(from: kserveEvent("response", id: "b", body: oipResponse(version: "2")))
        #expect(r1.events[0].modelVersion == "2" && s1.events[0].modelVersion == "2")
        #expect(r1.events[0].role == .challenger && s1.events[0].role == .challenger, "the role rule on model_version holds for both")
        #expect(r1.events[0].requestID == s1.events[0].requestID)
        // a response that arrives first (or a retried request) gives its pair's version: a pod on version 1 now
        let s2 = try capture.events(from: kserveEvent("response", id: "c", source: "fraud-predictor-00002-pod", body: oipResponse(version: "1")))
        let r2 = try capture.events(from: kserveEvent("request", id: "c", source: "fraud-predictor-00002-pod", body: oipRequest))
        #expect(s2.events[0].modelVersion == "1" && r2.events[0].modelVersion == "1" && r2.events[0].role == .champion)
        // a version the event names itself is never replaced
        let v1 = try capture.events(from: kserveEvent("request", id: "d", body: #"{"model_version":"7","instances":[{"amount":1}]}"#))
        #expect(v1.events[0].modelVersion == "7")
    }

    @Test func componentsAreSelected() throws {
        let byDefault = try Self.capture()
        let transformer = try byDefault.events(from: kserveEvent("request", id: "t", component: "transformer", body: oipRequest))
        #expect(transformer.events.isEmpty && transformer.otherComponent == 1, "KServe: the predictor by default")
        #expect(try byDefault.events(from: kserveEvent("request", id: "p", body: oipRequest)).events.count == 1)
        #expect(
            try byDefault.events(from: kserveEvent("request", id: "n", component: nil, body: oipRequest)).events.count == 1,
            "an event that names no component is taken")
        let chosen = try Self.capture(monitorsYAML.replacingOccurrences(of: "    capture:\n", with: "    capture:\n      component: transformer\n"))
        #expect(try chosen.events(from: kserveEvent("request", id: "t", component: "transformer", body: oipRequest)).events.count == 1)
        #expect(try chosen.events(from: kserveEvent("request", id: "p", body: oipRequest)).otherComponent == 1)
        // Seldon: every graph node unless one is named
        let seldon = [
            ("ce-specversion", "1.0"), ("ce-type", "io.seldon.serving.inference.request"), ("ce-id", "x"), ("ce-source", "s"),
            ("ce-inferenceservicename", "income"), ("ce-requestid", "p1"), ("ce-modelid", "preprocess")
        ]
        let node = try InferenceCloudEvent.binary(headers: seldon, body: Data(#"{"data":{"names":["age","hours"],"ndarray":[[30,40]]}}"#.utf8))
        #expect(try byDefault.events(from: node).events.count == 1)
        let yaml = monitorsYAML.replacingOccurrences(
            of: "    reference: {rolling: {offset: P7D}}\n  - name: fraud",
            with: "    reference: {rolling: {offset: P7D}}\n    capture: {component: classifier}\n  - name: fraud")
        #expect(try Self.capture(yaml).events(from: node).otherComponent == 1)
    }

    @Test func componentIsParsedWithItsPlace() throws {
        let bad = monitorsYAML.replacingOccurrences(of: "    capture:\n", with: "    capture:\n      component: [a]\n")
        do {
            _ = try MonitorsFile.parse(bad, file: "monitors.yaml")
            Issue.record("accepted")
        } catch let e as ConfigError {
            #expect(e.issues.contains { $0.line == 18 && $0.column == 18 && $0.message.contains("`component` must be a non-empty string") }, "\(e)")
        }
    }

    /// A Seldon request and response posted to a real `ingest-server` as Seldon's logger sends them.
    @Test func seldonPairIsStoredUnderOneRequestID() async throws {
        let schema = try WorkerSchema(prefix: "seld")
        defer { schema.drop() }
        #expect(try CLI.run(["migrate"], environment: schema.env).status == 0)
        let s = try Scratch()
        let config = s.write("monitors.yaml", monitorsYAML)
        let server = try RunningServer(["ingest-server", "--config", config], environment: schema.env)
        let port = try await server.port()
        let now = RFC3339.format(Date())
        let puid = "6c1e2b6a-8f0e-4f6e-9d57-1d2b3c4d5e6f"
        let seldon = [
            "ce-component": "", "ce-requestid": puid, "ce-modelid": "classifier", "ce-endpoint": "default",
            "ce-source": "http://income-default-0-classifier:8000/", "ce-protocol": "seldon"
        ]
        let request = #"{"data":{"names":["age","hours"],"ndarray":[[39,40],[50,13]]}}"#
        let response =
            #"{"data":{"names":["t:0","t:1"],"ndarray":[[0.8,0.2],[0.3,0.7]]},"meta":{"requestPath":{"classifier":"seldonio/sklearnserver:1.18.2"}}}"#
        let (s1, b1) = try await postCloudEvent(
            port: port, type: "io.seldon.serving.inference.request", id: UUID().uuidString, time: now,
            service: "income", body: Data(request.utf8), headers: seldon)
        let (s2, b2) = try await postCloudEvent(
            port: port, type: "io.seldon.serving.inference.response", id: UUID().uuidString, time: now,
            service: "income", body: Data(response.utf8), headers: seldon)
        #expect(s1 == 200 && b1.contains("\"accepted\":2"), "\(b1)")
        #expect(s2 == 200 && b2.contains("\"accepted\":2"), "\(b2)")
        // Seldon's feedback for that prediction (sent with its Seldon-Puid): the truth of each row, the reward
        let feedback = #"{"request":\#(request),"response":\#(response),"truth":{"data":{"ndarray":[[1],[0]]}},"reward":1}"#
        let (s3, b3) = try await postCloudEvent(
            port: port, type: "io.seldon.serving.feedback", id: UUID().uuidString, time: now,
            service: "income", body: Data(feedback.utf8), headers: seldon)
        #expect(s3 == 200 && b3.contains("\"stored\":2"), "\(b3)")
        var other = seldon
        other["ce-requestid"] = "reward-only"
        let (s4, b4) = try await postCloudEvent(
            port: port, type: "io.seldon.serving.feedback", id: UUID().uuidString, time: now,
            service: "income", body: Data(#"{"reward":0.5}"#.utf8), headers: other)
        #expect(s4 == 200 && b4.contains("\"stored\":1"), "\(b4)")
        let (s5, b5) = try await postCloudEvent(
            port: port, type: "io.seldon.serving.feedback", id: UUID().uuidString, time: now,
            service: "income", body: Data(#"{"truth":{"data":{"ndarray":[[0.2,0.8]]}}}"#.utf8), headers: other)
        #expect(s5 == 400 && b5.contains("a truth row holds one label"), "\(b5)")
        let (s6, b6) = try await postCloudEvent(
            port: port, type: "io.seldon.serving.feedback", id: UUID().uuidString, time: now,
            service: "income", body: Data(#"{"request":{}}"#.utf8), headers: other)
        #expect(s6 == 400 && b6.contains("neither truth nor reward"), "\(b6)")
        // a truth after a reward-only feedback completes the row; a later reward alone keeps the truth
        let (s7, b7) = try await postCloudEvent(
            port: port, type: "io.seldon.serving.feedback", id: UUID().uuidString, time: now,
            service: "income", body: Data(#"{"truth":{"data":{"ndarray":[["yes"]]}}}"#.utf8), headers: other)
        #expect(s7 == 200 && b7.contains("\"replaced\":1"), "\(b7)")
        let (s8, b8) = try await postCloudEvent(
            port: port, type: "io.seldon.serving.feedback", id: UUID().uuidString, time: now,
            service: "income", body: Data(#"{"reward":0.25}"#.utf8), headers: other)
        #expect(s8 == 200 && b8.contains("\"replaced\":1"), "\(b8)")
        // a model no monitor watches is refused, whether named by ?model= or by the service
        let (s9, b9) = try await postCloudEvent(
            port: port, type: "io.seldon.serving.feedback", id: UUID().uuidString, time: now,
            service: "income", body: Data(#"{"reward":1}"#.utf8), headers: other, path: "/v1/capture?model=nobody")
        #expect(s9 == 404, "\(b9)")
        let (s10, b10) = try await postCloudEvent(
            port: port, type: "io.seldon.serving.feedback", id: UUID().uuidString, time: now,
            service: "unwatched", body: Data(#"{"reward":1}"#.utf8), headers: other)
        #expect(s10 == 404, "\(b10)")
        // KServe: an OIP request without a version after a response that named one
        let kserve = ["ce-source": "fraud-predictor-00001-pod"]
        _ = try await postCloudEvent(
            port: port, type: "org.kubeflow.serving.inference.response", id: "k0", time: now,
            body: Data(oipResponse(version: "2").utf8), headers: kserve)
        _ = try await postCloudEvent(
            port: port, type: "org.kubeflow.serving.inference.request", id: "k1", time: now,
            body: Data(oipRequest.utf8), headers: kserve)
        _ = try await postCloudEvent(
            port: port, type: "org.kubeflow.serving.inference.response", id: "k1", time: now,
            body: Data(oipResponse(version: "2").utf8), headers: kserve)
        #expect(server.terminate() == 0)
        #expect(try schema.count("SELECT count(*) AS n FROM capture_events WHERE model = 'income'") == 4)
        #expect(try schema.count("SELECT count(DISTINCT request_id) AS n FROM capture_events WHERE model = 'income'") == 2)
        #expect(
            try schema.count("SELECT count(*) AS n FROM capture_events WHERE model = 'income' AND request_id IN ('\(puid)/0', '\(puid)/1')") == 4,
            "request and response pair on Ce-Requestid, row by row")
        #expect(try schema.count("SELECT count(DISTINCT (model_version, role)) AS n FROM capture_events WHERE model = 'income'") == 1)
        #expect(
            try schema.count(
                """
                SELECT count(DISTINCT g.request_id) AS n FROM ground_truth g JOIN capture_events c ON c.model = g.model AND c.request_id = g.request_id
                 WHERE g.model = 'income' AND g.source = 'seldon_feedback' AND g.reward = 1
                """) == 2, "the feedback's truth pairs with the captured rows")
        #expect(try schema.count("SELECT count(*) AS n FROM ground_truth WHERE request_id = '\(puid)/0' AND label = '1'") == 1)
        #expect(
            try schema.count("SELECT count(*) AS n FROM ground_truth WHERE request_id = 'reward-only' AND label = 'yes' AND reward = 0.25") == 1,
            "neither the truth nor the reward erased the other")
        #expect(try schema.count("SELECT count(*) AS n FROM ground_truth WHERE model <> 'income'") == 0)
        #expect(
            try schema.count(
                "SELECT count(*) AS n FROM capture_events WHERE model = 'fraud' AND request_id = 'k1' AND model_version = '2' AND role = 'challenger'"
            ) == 2,
            "the KServe pair shares the version and the role")
    }
}

/// Seldon Core v2 over HTTP: a request on a model's inputs topic and its response on the outputs topic, as a
/// Knative KafkaSource posts them (protobuf bodies made by Python's protobuf, from the golden fixtures), paired on
/// Seldon's `x-request-id` although the messages' own ids differ, under one model version and role.
@Suite("Seldon Core v2 protobuf capture over HTTP", .serialized)
struct SeldonV2CaptureTests {
    static let config = """
        monitors:
          - name: iris
            model: iris
            window: PT1H
            features:
              - {name: sepal, kind: numeric, key: features, index: 0}
              - {name: city, kind: categorical, key: city}
              - {name: predict, kind: numeric, source: output}
            reference: {rolling: {offset: P7D}}
            capture:
              roles:
                - {role: challenger, model_version: "1"}
        """

    @Test func aKafkaSourcePairIsStoredUnderOneRequestIDVersionAndRole() async throws {
        struct Case: Decodable {
            var name: String
            var body: String
        }
        struct File: Decodable { var cases: [Case] }
        let fixtures = try JSONDecoder().decode(
            File.self, from: Data(contentsOf: repoRoot.appendingPathComponent("Tests/DriftCaptureTests/Fixtures/protobuf_cases.json")))
        let request = try #require(fixtures.cases.first { $0.name.hasPrefix("request typed contents") }.flatMap { Data(base64Encoded: $0.body) })
        let response = try #require(fixtures.cases.first { $0.name.hasPrefix("response typed contents") }.flatMap { Data(base64Encoded: $0.body) })
        let schema = try WorkerSchema(prefix: "sv2")
        defer { schema.drop() }
        #expect(try CLI.run(["migrate"], environment: schema.env).status == 0)
        let s = try Scratch()
        let server = try RunningServer(["ingest-server", "--config", s.write("monitors.yaml", Self.config)], environment: schema.env)
        let port = try await server.port()
        func kafka(_ topic: String, offset: Int) -> [(String, String)] {
            [
                ("ce-specversion", "1.0"), ("ce-id", "partition:0/offset:\(offset)"), ("ce-type", "dev.knative.kafka.event"),
                ("ce-source", "/apis/v1/namespaces/seldon-mesh/kafkasources/iris-capture#\(topic)"), ("ce-time", RFC3339.format(Date())),
                ("ce-kafkaheaderpipeline", "iris"), ("ce-kafkaheaderxrequestid", "d4mq3kq5ah1s73e0bkk0")
            ]
        }
        let r1 = try RawHTTP.post(port: port, headers: kafka("seldon.seldon-mesh.model.iris.inputs", offset: 11), body: request)
        let r2 = try RawHTTP.post(port: port, headers: kafka("seldon.seldon-mesh.model.iris.outputs", offset: 12), body: response)
        #expect(r1.status == 200 && r1.body.contains(#""accepted":2"#), "\(r1.status) \(r1.body)")
        #expect(r2.status == 200 && r2.body.contains(#""accepted":2"#), "\(r2.status) \(r2.body)")
        let rows = try schema.connect().query("SELECT request_id, kind, model_version, role FROM capture_events ORDER BY request_id, kind", name: "t")
        #expect(rows.count == 4)
        #expect(Set(try rows.map { try $0.string("request_id") }) == ["d4mq3kq5ah1s73e0bkk0/0", "d4mq3kq5ah1s73e0bkk0/1"], "paired on x-request-id")
        #expect(
            Set(try rows.map { try $0.string("model_version") + "/" + $0.string("role") }) == ["1/challenger"],
            "the response names no version: it inherits its request's, and the role rule holds for both")
        let bad = try RawHTTP.post(
            port: port, headers: [("Content-Type", "application/protobuf"), ("ce-time", RFC3339.format(Date()))], body: request)
        #expect(bad.status == 400 && bad.body.contains("kind"), "no way to tell a request from a response: \(bad.body)")
        #expect(server.terminate() == 0)
    }
}
