import Foundation

/// A controller failure that names the object or setting it is about. Messages never hold secret values.
public enum ControllerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A flag or setting has a value the controller cannot use.
    case invalidOption(name: String, value: String, reason: String)
    /// A key source (directory or Kubernetes Secret list) could not be read or written.
    case keyStore(source: String, reason: String)
    /// There is no key to seal with.
    case noKeys
    /// The Kubernetes API answered with an error for an object.
    case kubernetes(object: String, status: Int, reason: String)
    /// The Kubernetes API could not be reached or answered something unreadable.
    case transport(object: String, reason: String)
    /// A kubeconfig or in-cluster configuration could not be used.
    case kubeconfig(source: String, reason: String)
    /// A SealedSecret uses the deprecated `spec.data` form while `--accept-deprecated-v1-data=false`.
    case deprecatedData(object: String)

    public var description: String {
        switch self {
        case .invalidOption(let name, let value, let reason): return "--\(name) \(value): \(reason)"
        case .keyStore(let source, let reason): return "\(source): \(reason)"
        case .noKeys: return "no sealing key is available"
        case .kubernetes(let object, let status, let reason): return "\(object): HTTP \(status): \(reason)"
        case .transport(let object, let reason): return "\(object): \(reason)"
        case .kubeconfig(let source, let reason): return "\(source): \(reason)"
        case .deprecatedData(let object):
            return "SealedSecret \(object): the deprecated spec.data form is refused (--accept-deprecated-v1-data=false)"
        }
    }

    /// The HTTP status when this is an API error.
    public var httpStatus: Int? {
        if case .kubernetes(_, let status, _) = self { return status }
        return nil
    }
}
