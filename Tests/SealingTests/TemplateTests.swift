import Foundation
import Testing
@testable import Sealing

/// The Go-template subset of `spec.template.data`.
@Suite struct TemplateTests {
    static let items: [String: [UInt8]] = [
        "user": Array("admin".utf8), "password": Array(" p@ss\"w<rd> ".utf8), "my-key": Array("dashed".utf8),
        "encoded": Array("aGVsbG8=".utf8),
    ]

    static func render(_ source: String) throws -> String {
        String(decoding: try GoTemplate(source).render(items), as: UTF8.self)
    }

    @Test func rendersTheSubset() throws {
        #expect(try Self.render("{{ .user }}") == "admin")
        #expect(try Self.render("user={{.user}};key={{ index . \"my-key\" }}") == "user=admin;key=dashed")
        #expect(try Self.render("{{ .password | trim }}") == "p@ss\"w<rd>")
        #expect(try Self.render("{{ toJson .password }}") == #"" p@ss\"w\u003crd\u003e ""#)
        #expect(try Self.render("{{ .user | b64enc }}") == "YWRtaW4=")
        #expect(try Self.render("{{ .encoded | b64dec | upper }}") == "HELLO")
        #expect(try Self.render("{{ .user | quote }}") == "\"admin\"")
        #expect(try Self.render("{{ quote .user .user }}") == "\"admin\" \"admin\"")
        #expect(try Self.render("{{ lower \"ABC\" }}") == "abc")
        #expect(try Self.render("{{ (index . \"my-key\") | upper }}") == "DASHED")
        #expect(try Self.render("a  {{- .user -}}  b") == "aadminb")
        #expect(try Self.render("{{/* note */}}x") == "x")
        #expect(try Self.render("{{ toJson . }}").hasPrefix("{\"encoded\":\"aGVsbG8=\",\"my-key\":\"dashed\""))
        #expect(try Self.render("plain text") == "plain text")
    }

    @Test(arguments: ["{{ .user", "{{ if .user }}x{{ end }}", "{{ range . }}{{ end }}", "{{ $x := .user }}", "{{ .user | sha256sum }}",
                      "{{ .a.b }}", "{{ .missing }}", "{{ index . \"missing\" }}", "{{ . }}", "{{ .user | b64dec }}"])
    func rejectsAnythingElse(source: String) {
        #expect(throws: TemplateError.self) { try Self.render(source) }
    }
}
