/// Schema version 4: an alias may split its traffic with a challenger version (an online A/B test). Aliases of a
/// schema-3 build have no split.
enum SchemaV4 {
    static let sql = """
        ALTER TABLE aliases ADD COLUMN challenger_version INTEGER;
        ALTER TABLE aliases ADD COLUMN challenger_percent INTEGER NOT NULL DEFAULT 0
            CHECK (challenger_percent BETWEEN 0 AND 100);
        """
}
