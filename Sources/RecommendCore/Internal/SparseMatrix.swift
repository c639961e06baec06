/// A compressed sparse row matrix: dense `Int32` column indices and `Double` values.
///
/// Row `r` holds `columns[rowStart[r] ..< rowStart[r + 1]]` (ascending unless built otherwise) and the matching
/// `values`.
struct SparseMatrix: Sendable {
    let rowCount: Int
    let columnCount: Int
    let rowStart: [Int]
    let columns: [Int32]
    let values: [Double]

    /// The entries of one row.
    @inline(__always)
    func row(_ r: Int) -> Range<Int> {
        self.rowStart[r]..<self.rowStart[r + 1]
    }

    /// The number of stored entries.
    var entryCount: Int {
        self.columns.count
    }

    /// Bytes held by the three arrays (capacity not counted).
    var byteCount: Int {
        self.rowStart.count * MemoryLayout<Int>.stride + self.columns.count * MemoryLayout<Int32>.stride
            + self.values.count * MemoryLayout<Double>.stride
    }

    /// Σ value² of each row.
    func rowSquaredNorms() -> [Double] {
        (0..<self.rowCount).map { r in
            var sum = 0.0
            for entry in self.row(r) {
                sum += self.values[entry] * self.values[entry]
            }
            return sum
        }
    }

    /// The transpose, with ascending columns in every row.
    func transposed() -> SparseMatrix {
        var start = [Int](repeating: 0, count: self.columnCount + 1)
        for column in self.columns {
            start[Int(column) + 1] += 1
        }
        for c in 0..<self.columnCount {
            start[c + 1] += start[c]
        }
        var next = start
        var columns = [Int32](repeating: 0, count: self.columns.count)
        var values = [Double](repeating: 0, count: self.columns.count)
        for r in 0..<self.rowCount {
            for entry in self.row(r) {
                let c = Int(self.columns[entry])
                columns[next[c]] = Int32(r)
                values[next[c]] = self.values[entry]
                next[c] += 1
            }
        }
        return SparseMatrix(
            rowCount: self.columnCount,
            columnCount: self.rowCount,
            rowStart: start,
            columns: columns,
            values: values
        )
    }
}
