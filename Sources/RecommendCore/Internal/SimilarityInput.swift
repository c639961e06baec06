/// The matrices a neighbourhood's similarities are computed from, prepared for the manifest's measure.
///
/// `entities` holds the rows compared (items × users for ItemCF, users × items for UserCF) with the values the
/// measure's dot product needs: the feedback values for cosine, Pearson and Euclidean; each value minus its
/// column's mean (the user's mean rating for ItemCF, the item's for UserCF) for adjusted cosine; 1 for Jaccard.
/// `features` is its transpose.
struct SimilarityInput: Sendable {
    let entities: SparseMatrix
    let features: SparseMatrix
    /// Per-column means subtracted (adjusted cosine), per feature; `nil` otherwise.
    let featureMeans: [Double]?
    let kernel: SimilarityKernel
    /// The attribute feature matrix (rows × attribute features) and its transpose, when the manifest blends.
    let attributes: (rows: SparseMatrix, columns: SparseMatrix)?

    /// - Parameters:
    ///   - entities: The feedback values, rows compared × features.
    ///   - features: Its transpose.
    ///   - attributes: The rows' attribute matrix, when blending.
    init(manifest: Manifest, entities: SparseMatrix, features: SparseMatrix, attributes: SparseMatrix?) {
        switch manifest.similarity {
        case .cosine, .pearson, .euclidean:
            (self.entities, self.features, self.featureMeans) = (entities, features, nil)
        case .jaccard:
            let unitFeatures = features.withValues(repeating: 1)
            (self.entities, self.features, self.featureMeans) = (entities.withValues(repeating: 1), unitFeatures, nil)
        case .adjustedCosine:
            let means = (0..<features.rowCount).map { f in
                let row = features.row(f)
                return row.isEmpty ? 0 : features.values[row].reduce(0, +) / Double(row.count)
            }
            let centredFeatures = SparseMatrix(
                rowCount: features.rowCount,
                columnCount: features.columnCount,
                rowStart: features.rowStart,
                columns: features.columns,
                values: (0..<features.rowCount).flatMap { f in features.values[features.row(f)].map { $0 - means[f] } }
            )
            (self.entities, self.features, self.featureMeans) = (centredFeatures.transposed(), centredFeatures, means)
        }
        let weight = attributes == nil ? 0 : manifest.featureBlend.weight
        self.attributes = attributes.map { ($0, $0.transposed()) }
        let rows = self.entities
        self.kernel = SimilarityKernel(
            similarity: manifest.similarity,
            featureCount: self.features.rowCount,
            statistics: (0..<rows.rowCount).map { RowStatistics(values: rows.values[rows.row($0)]) },
            blendWeight: weight,
            attributeCounts: attributes.map { matrix in (0..<matrix.rowCount).map { Double(matrix.row($0).count) } } ?? []
        )
    }

    /// Whether the pair-once cosine build applies (plain cosine, no blend).
    var isPlainCosine: Bool {
        self.kernel.similarity == .cosine && self.attributes == nil
    }
}

extension SparseMatrix {
    /// The same structure with every value set to `value`.
    func withValues(repeating value: Double) -> SparseMatrix {
        SparseMatrix(
            rowCount: self.rowCount,
            columnCount: self.columnCount,
            rowStart: self.rowStart,
            columns: self.columns,
            values: [Double](repeating: value, count: self.values.count)
        )
    }
}
