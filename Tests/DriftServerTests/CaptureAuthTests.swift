import DriftCommon
import Testing

@testable import DriftServer

@Suite("Capture authentication (no I/O)")
struct CaptureAuthTests {
    let auth = CaptureAuth(token: "s3cret-T0ken")
    typealias C = CaptureAuth.Credentials

    @Test func theBearerSchemeIsMatchedInAnyCase() {
        for header in [
            "Bearer s3cret-T0ken", "bearer s3cret-T0ken", "BEARER s3cret-T0ken", "BeArEr s3cret-T0ken",
            "Bearer   s3cret-T0ken", "Bearer\ts3cret-T0ken", "  Bearer s3cret-T0ken  ", "Bearer s3cret-T0ken\r\n"
        ] {
            #expect(auth.decide(C(authorization: header)) == .allowed, "\(header)")
        }
    }

    @Test func theTokenItselfIsCaseSensitiveAndExact() {
        for header in ["Bearer S3CRET-T0KEN", "Bearer s3cret-T0ke", "Bearer s3cret-T0ken2", "Bearer s3cret T0ken"] {
            #expect(auth.decide(C(authorization: header)) == .wrong, "\(header)")
        }
    }

    @Test func otherSchemesAndBareValuesAreNotCredentials() {
        #expect(auth.decide(C(authorization: "s3cret-T0ken")) == .missing)
        #expect(auth.decide(C(authorization: "Basic czNjcmV0LVQwa2Vu")) == .missing)
        #expect(auth.decide(C(authorization: "Bearers3cret-T0ken")) == .missing)
        #expect(auth.decide(C(authorization: "Bearer")) == .missing)
        #expect(auth.decide(C(authorization: "Bearer    ")) == .missing)
        #expect(CaptureAuth.bearer("Token s3cret-T0ken") == nil)
        #expect(CaptureAuth.bearer("bearer x") == "x")
    }

    @Test func queryAndPathFormsAreAccepted() {
        #expect(auth.decide(C(query: "s3cret-T0ken")) == .allowed)
        #expect(auth.decide(C(path: "s3cret-T0ken")) == .allowed)
        #expect(auth.decide(C(query: "s3cret-T0ken\n")) == .allowed, "trailing whitespace is trimmed like the file token")
        #expect(auth.decide(C(query: "nope")) == .wrong)
        #expect(auth.decide(C(path: "nope")) == .wrong)
        #expect(auth.decide(C(query: "")) == .missing)
        #expect(auth.decide(C(query: "   ")) == .missing)
    }

    @Test func oneMatchingCredentialIsEnough() {
        // a mesh may add its own Authorization header; the URL token still counts
        #expect(auth.decide(C(authorization: "Bearer mesh-jwt", query: "s3cret-T0ken")) == .allowed)
        #expect(auth.decide(C(authorization: "Bearer mesh-jwt", query: "nope", path: "nope2")) == .wrong)
        #expect(auth.decide(C()) == .missing)
    }

    @Test func noConfiguredTokenAllowsEverything() {
        let open = CaptureAuth(token: nil)
        #expect(open.token == nil)
        #expect(open.decide(C()) == .allowed)
        #expect(open.decide(C(authorization: "Bearer anything", path: "x")) == .allowed)
        #expect(CaptureAuth(token: "") == open)
        #expect(CaptureAuth(token: " \n\t") == open, "an all-whitespace token is no token")
    }

    @Test func theConfiguredTokenIsTrimmed() {
        let trimmed = CaptureAuth(token: "  s3cret-T0ken\r\n")
        #expect(trimmed.token == "s3cret-T0ken")
        #expect(trimmed.decide(C(authorization: "Bearer s3cret-T0ken")) == .allowed)
    }

    @Test func thePathTokenIsReadOnlyFromTheTokenForms() {
        #expect(CaptureAuth.pathToken("/v1/capture/t/abc") == "abc")
        #expect(CaptureAuth.pathToken("/v1/capture/t/abc/batch") == "abc")
        #expect(CaptureAuth.pathToken("/v1/capture/t/a%2Fb%20c") == "a/b c", "percent-decoded")
        #expect(CaptureAuth.pathToken("/v1/capture/t/a%zz") == "a%zz", "a malformed escape is taken as written")
        #expect(CaptureAuth.pathToken("/v1/capture/t/batch") == "batch")
        #expect(CaptureAuth.pathToken("/v1/capture/t/") == nil)
        #expect(CaptureAuth.pathToken("/v1/capture/t//batch") == nil)
        #expect(CaptureAuth.pathToken("/v1/capture/t/a/b") == nil)
        #expect(CaptureAuth.pathToken("/v1/capture") == nil)
        #expect(CaptureAuth.pathToken("/v1/capture/batch") == nil)
    }

    @Test func comparisonIsExactForEveryLength() {
        #expect(ConstantTime.equal("abc", "abc"))
        #expect(!ConstantTime.equal("", "abc"))
        #expect(!ConstantTime.equal("abcabc", "abc"), "a repetition of the token is not the token")
        #expect(!ConstantTime.equal("ab", "abc"))
        #expect(!ConstantTime.equal("abd", "abc"))
        #expect(!ConstantTime.equal("é", "e"))
    }
}
