import COpenBLAS

/// Facts about the BLAS/LAPACK in use.
public enum LinearAlgebra {
    /// OpenBLAS's configuration string (version, target core, threading).
    public static var openBLASConfig: String { String(cString: drift_openblas_config()) }

    /// Eigenvalues (ascending) of a symmetric row-major n×n matrix through LAPACK `dsyevd`.
    /// Returns nil when LAPACK reports a failure.
    public static func symmetricEigenvalues(_ a: [Double], n: Int) -> [Double]? { dsyevd(a, n: n, vectors: false)?.values }

    /// Eigenvalues (ascending) and eigenvectors (column j of the row-major n×n result belongs to eigenvalue j) of a
    /// symmetric row-major matrix, through LAPACK `dsyevd`. Nil when LAPACK reports a failure.
    public static func symmetricEigen(_ a: [Double], n: Int) -> (values: [Double], vectors: [Double])? { dsyevd(a, n: n, vectors: true) }

    static func dsyevd(_ a: [Double], n: Int, vectors: Bool) -> (values: [Double], vectors: [Double])? {
        var m = a
        var w = [Double](repeating: 0, count: n)
        let info = m.withUnsafeMutableBufferPointer { mp in
            w.withUnsafeMutableBufferPointer { wp in
                LAPACKE_dsyevd(
                    LAPACK_ROW_MAJOR, Int8(UInt8(ascii: vectors ? "V" : "N")), Int8(UInt8(ascii: "U")),
                    Int32(n), mp.baseAddress, Int32(n), wp.baseAddress)
            }
        }
        return info == 0 ? (w, m) : nil
    }
}
