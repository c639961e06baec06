// go_recommend: a grpc-go (Debian golang-google-grpc-dev 1.33, GOPATH mode) peer serving
// aimass.v1.Recommend/Recommend and grpc.health.v1.Health/Check, for side-by-side overload runs (issue 12).
//
// It builds the same ItemCF model as RecommendCore (Sources/RecommendCore) from an interactions file and answers
// Recommend as RecommendService does. Stock server: grpc.NewServer() with default options (no concurrency limit, so
// it queues like any grpc-go server). Plaintext h2c on 127.0.0.1; GOMAXPROCS follows the CPU affinity.
//
// Usage: go_recommend --port P --data FILE [--neighbours 50] [--weighting iuf|none] [--feedback implicit|explicit]
//
//	[--normalize] [--token TOKEN] [--model movielens-itemcf]
package main

// libm's log, as Swift's Glibc log(): Go's math.Log is off by one ulp for some arguments (e.g. ln 3), which would
// change similarities in their last bit.

// #cgo LDFLAGS: -lm
// #include <math.h>
import "C"

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	pb "gorecommend/aimassv1"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// ---- Identifier order (IdentifierOrder.swift): integers numerically (then bytes), before non-integers (bytes). ----

type idKey struct {
	b         []byte
	isInt     bool
	negative  bool
	magnitude []byte
}

func makeKey(id string) idKey {
	b := []byte(id)
	k := idKey{b: b}
	digits := b
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		digits = b[1:]
	}
	if len(digits) == 0 {
		return k
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return k
		}
	}
	i := 0
	for i < len(digits) && digits[i] == '0' {
		i++
	}
	k.isInt, k.magnitude = true, digits[i:]
	k.negative = neg && len(k.magnitude) > 0
	return k
}

func keyLess(a, b *idKey) bool {
	switch {
	case a.isInt && b.isInt:
		n := 0
		if a.negative != b.negative {
			n = 1
			if a.negative {
				n = -1
			}
		} else {
			m := 0
			if len(a.magnitude) != len(b.magnitude) {
				m = 1
				if len(a.magnitude) < len(b.magnitude) {
					m = -1
				}
			} else {
				m = bytes.Compare(a.magnitude, b.magnitude)
			}
			if a.negative {
				m = -m
			}
			n = m
		}
		if n != 0 {
			return n < 0
		}
		return bytes.Compare(a.b, b.b) < 0
	case a.isInt:
		return true
	case b.isInt:
		return false
	default:
		return bytes.Compare(a.b, b.b) < 0
	}
}

// ---- Interactions file (InteractionTable+Parsing.swift / +Builder.swift). ----

type row struct {
	user, item int32 // interned (input order)
	rating     float64
	rated      bool
}

var (
	userNames   = map[string]bool{"user": true, "user_id": true, "userid": true, "uid": true}
	itemNames   = map[string]bool{"item": true, "item_id": true, "itemid": true, "iid": true, "movie_id": true, "movieid": true}
	ratingNames = map[string]bool{"rating": true, "score": true, "value": true, "weight": true}
	timeNames   = map[string]bool{"timestamp": true, "time": true, "ts": true}
)

func trimSpaceTab(s string) string { return strings.Trim(s, " \t") }

func splitFields(line string, delim byte) []string {
	var out []string
	if delim == ' ' {
		for _, f := range strings.Split(line, " ") {
			if f = trimSpaceTab(f); f != "" {
				out = append(out, f)
			}
		}
		return out
	}
	for _, f := range strings.Split(line, string(delim)) {
		out = append(out, trimSpaceTab(f))
	}
	return out
}

func indexOf(names []string, set map[string]bool) int {
	for i, n := range names {
		if set[n] {
			return i
		}
	}
	return -1
}

func parseNumber(s string) (float64, bool) {
	if len(s) <= 15 {
		if v, err := strconv.ParseUint(s, 10, 64); err == nil && s[0] != '+' {
			return float64(v), true
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil && !math.IsInf(v, 0) && !math.IsNaN(v)
}

// table: ids in identifier order; per user its distinct items ascending with the value of the last row.
type table struct {
	users, items []string
	userItems    [][]int32
	userRatings  [][]float64
	unrated      bool
}

func loadTable(path string) (*table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var delim byte
	userCol, itemCol, ratingCol := 0, 1, 2
	userLookup, itemLookup := map[string]int32{}, map[string]int32{}
	var userIDs, itemIDs []string
	var rows []row
	intern := func(id string, lookup map[string]int32, names *[]string) int32 {
		if i, ok := lookup[id]; ok {
			return i
		}
		i := int32(len(*names))
		lookup[id] = i
		*names = append(*names, id)
		return i
	}
	for number, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		trimmed := trimSpaceTab(line)
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		if delim == 0 {
			delim = ' '
			if strings.ContainsRune(line, '\t') {
				delim = '\t'
			} else if strings.ContainsRune(line, ',') {
				delim = ','
			}
			fields := splitFields(line, delim)
			names := make([]string, len(fields))
			for i, f := range fields {
				names[i] = strings.SplitN(strings.ToLower(f), ":", 2)[0]
			}
			if u, it := indexOf(names, userNames), indexOf(names, itemNames); u >= 0 && it >= 0 {
				userCol, itemCol, ratingCol = u, it, indexOf(names, ratingNames)
				_ = indexOf(names, timeNames) // timestamps only matter to evaluation splits
				continue
			}
		}
		fields := splitFields(line, delim)
		need := userCol + 1
		if itemCol+1 > need {
			need = itemCol + 1
		}
		if len(fields) < need || fields[userCol] == "" || fields[itemCol] == "" {
			return nil, fmt.Errorf("line %d: expected user and item fields", number+1)
		}
		r := row{user: intern(fields[userCol], userLookup, &userIDs), item: intern(fields[itemCol], itemLookup, &itemIDs), rating: 1}
		if ratingCol >= 0 && ratingCol < len(fields) && fields[ratingCol] != "" {
			v, ok := parseNumber(fields[ratingCol])
			if !ok {
				return nil, fmt.Errorf("line %d: rating %q is not a finite number", number+1, fields[ratingCol])
			}
			r.rating, r.rated = v, true
		}
		rows = append(rows, r)
	}
	t := &table{}
	var userRank, itemRank []int32
	t.users, userRank = rank(userIDs)
	t.items, itemRank = rank(itemIDs)
	t.userItems = make([][]int32, len(t.users))
	t.userRatings = make([][]float64, len(t.users))
	// Last row of each (user, item) wins.
	last := make([]map[int32]float64, len(t.users))
	for _, r := range rows {
		u, i := userRank[r.user], itemRank[r.item]
		if last[u] == nil {
			last[u] = map[int32]float64{}
		}
		last[u][i] = r.rating
		if !r.rated {
			t.unrated = true
		}
	}
	for u, m := range last {
		items := make([]int32, 0, len(m))
		for i := range m {
			items = append(items, i)
		}
		sort.Slice(items, func(a, b int) bool { return items[a] < items[b] })
		values := make([]float64, len(items))
		for n, i := range items {
			values[n] = m[i]
		}
		t.userItems[u], t.userRatings[u] = items, values
	}
	return t, nil
}

func rank(names []string) ([]string, []int32) {
	keys := make([]idKey, len(names))
	perm := make([]int, len(names))
	for i, n := range names {
		keys[i], perm[i] = makeKey(n), i
	}
	sort.Slice(perm, func(a, b int) bool { return keyLess(&keys[perm[a]], &keys[perm[b]]) })
	sorted := make([]string, len(names))
	r := make([]int32, len(names))
	for pos, orig := range perm {
		sorted[pos], r[orig] = names[orig], int32(pos)
	}
	return sorted, r
}

// ---- ItemCF model (Recommender.swift, NeighbourBuilder.swift, Recommender+Scoring.swift). ----

type scored struct {
	index int32
	score float64
}

// ranksBefore: score descending, then index (= identifier order) ascending.
func ranksBefore(a, b scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.index < b.index
}

func topRanked(c []scored, k int) []scored {
	sort.Slice(c, func(a, b int) bool { return ranksBefore(c[a], c[b]) })
	if len(c) > k {
		c = c[:k]
	}
	return c
}

type model struct {
	users, items []string
	userLookup   map[string]int32
	itemLookup   map[string]int32
	userItems    [][]int32   // users × items, ascending
	userValues   [][]float64 // 1 (implicit) or the rating (explicit)
	neighbours   [][]scored  // items × items, top-K in ranking order
}

func buildModel(t *table, k int, weighting string, explicit, normalize bool) *model {
	m := &model{users: t.users, items: t.items, userItems: t.userItems, userLookup: map[string]int32{}, itemLookup: map[string]int32{}}
	for i, u := range t.users {
		m.userLookup[u] = int32(i)
	}
	for i, it := range t.items {
		m.itemLookup[it] = int32(i)
	}
	nItems := len(t.items)
	m.userValues = make([][]float64, len(t.users))
	for u := range t.users {
		if explicit {
			m.userValues[u] = t.userRatings[u]
		} else {
			m.userValues[u] = make([]float64, len(t.userItems[u]))
			for n := range m.userValues[u] {
				m.userValues[u][n] = 1
			}
		}
	}
	// Transpose: items × users, users ascending.
	itemUsers := make([][]int32, nItems)
	itemValues := make([][]float64, nItems)
	for u := range t.users {
		for n, i := range t.userItems[u] {
			itemUsers[i] = append(itemUsers[i], int32(u))
			itemValues[i] = append(itemValues[i], m.userValues[u][n])
		}
	}
	var divisors []float64
	if weighting == "iuf" {
		divisors = make([]float64, len(t.users))
		for u := range t.users {
			divisors[u] = float64(C.log(C.double(1 + float64(len(t.userItems[u])))))
		}
	}
	norms := make([]float64, nItems)
	for i := range norms {
		s := 0.0
		for _, v := range itemValues[i] {
			s += v * v
		}
		norms[i] = s
	}
	// Each item's dot products against all items: users ascending, term (x / d) · y, as the full build does (the
	// pair-once build gives bit-identical sums for the cases it is used in).
	m.neighbours = make([][]scored, nItems)
	sums := make([]float64, nItems)
	touched := make([]bool, nItems)
	var list []int32
	var candidates []scored
	for a := 0; a < nItems; a++ {
		for n, f := range itemUsers[a] {
			w := itemValues[a][n]
			if divisors != nil {
				w /= divisors[f]
			}
			for e, b := range t.userItems[f] {
				if !touched[b] {
					touched[b] = true
					list = append(list, b)
				}
				sums[b] += w * m.userValues[f][e]
			}
		}
		candidates = candidates[:0]
		for _, b := range list {
			if int(b) != a && sums[b] > 0 {
				candidates = append(candidates, scored{b, sums[b] / math.Sqrt(norms[a]*norms[b])})
			}
			sums[b], touched[b] = 0, false
		}
		list = list[:0]
		kept := append([]scored(nil), topRanked(candidates, k)...)
		if normalize && len(kept) > 0 {
			max := kept[0].score
			for p := range kept {
				kept[p].score /= max
			}
		}
		m.neighbours[a] = kept
	}
	return m
}

// rank: the top k items (score > 0) of a profile (items ascending, with values).
func (m *model) rank(items []int32, values []float64, k int, excludeSeen bool) []scored {
	scores := make([]float64, len(m.items))
	marked := make([]bool, len(m.items))
	var touched []int32
	for p, j := range items {
		v := values[p]
		for _, e := range m.neighbours[j] {
			if !marked[e.index] {
				marked[e.index] = true
				touched = append(touched, e.index)
			}
			scores[e.index] += e.score * v
		}
	}
	if excludeSeen {
		for _, j := range items {
			scores[j] = 0
		}
	}
	candidates := make([]scored, 0, len(touched))
	for _, i := range touched {
		if scores[i] > 0 {
			candidates = append(candidates, scored{i, scores[i]})
		}
	}
	return topRanked(candidates, k)
}

// ---- Services. ----

type recommendServer struct {
	pb.UnimplementedRecommendServer
	model    *model
	name     string
	token    string
	servedBy *pb.ServedBy
}

func (s *recommendServer) authorize(ctx context.Context) error {
	if s.token == "" {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if v == "Bearer "+s.token {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "missing or unknown bearer token")
}

func (s *recommendServer) Recommend(ctx context.Context, in *pb.RecommendRequest) (*pb.RecommendResponse, error) {
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	k := int(in.K)
	if k == 0 {
		k = 10
	} else if k > 10000 {
		return nil, status.Errorf(codes.InvalidArgument, "k must be between 1 and 10000, got %d", in.K)
	}
	if in.Model == "" {
		return nil, status.Error(codes.InvalidArgument, "model is required")
	}
	switch {
	case in.UserId == "" && len(in.SeedItems) == 0:
		return nil, status.Error(codes.InvalidArgument, "give a user_id or seed_items")
	case in.UserId != "" && len(in.SeedItems) > 0:
		return nil, status.Error(codes.InvalidArgument, "give a user_id or seed_items, not both")
	}
	if in.Model != s.name {
		return nil, status.Errorf(codes.NotFound, "model '%s' not found", in.Model)
	}
	if v := in.Version; v != nil {
		if v.Number != 0 && v.Alias != "" {
			return nil, status.Error(codes.InvalidArgument, "set either a version number or an alias, not both")
		}
		if (v.Number != 0 && v.Number != 1) || (v.Alias != "" && v.Alias != "latest") {
			return nil, status.Errorf(codes.NotFound, "model '%s' has no such version", in.Model)
		}
	}
	var ranked []scored
	if in.UserId != "" {
		u, ok := s.model.userLookup[in.UserId]
		if !ok {
			return nil, status.Errorf(codes.NotFound, "unknown user '%s'", in.UserId)
		}
		ranked = s.model.rank(s.model.userItems[u], s.model.userValues[u], k, in.ExcludeSeen)
	} else {
		set := map[int32]bool{}
		for _, item := range in.SeedItems {
			i, ok := s.model.itemLookup[item]
			if !ok {
				return nil, status.Errorf(codes.NotFound, "unknown item '%s'", item)
			}
			set[i] = true
		}
		items := make([]int32, 0, len(set))
		for i := range set {
			items = append(items, i)
		}
		sort.Slice(items, func(a, b int) bool { return items[a] < items[b] })
		values := make([]float64, len(items))
		for n := range values {
			values[n] = 1
		}
		ranked = s.model.rank(items, values, k, in.ExcludeSeen)
	}
	out := &pb.RecommendResponse{Items: make([]*pb.ScoredItem, len(ranked)), ServedBy: s.servedBy}
	for n, r := range ranked {
		out.Items[n] = &pb.ScoredItem{ItemId: s.model.items[r.index], Score: r.score}
	}
	return out, nil
}

type health struct{}

func (health) Check(ctx context.Context, in *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}
func (health) Watch(in *healthpb.HealthCheckRequest, s healthpb.Health_WatchServer) error {
	return status.Error(codes.Unimplemented, "watch not implemented")
}

func main() {
	port := flag.String("port", "50061", "TCP port on 127.0.0.1")
	dataPath := flag.String("data", "data/ml-100k.inter", "interactions file")
	neighbours := flag.Int("neighbours", 50, "K neighbours per item")
	weighting := flag.String("weighting", "iuf", "none or iuf")
	feedback := flag.String("feedback", "implicit", "implicit or explicit")
	normalize := flag.Bool("normalize", false, "divide each neighbour row by its maximum")
	token := flag.String("token", "", "bearer token required in `authorization` (empty: no authentication)")
	name := flag.String("model", "movielens-itemcf", "model name served")
	flag.Parse()
	if *neighbours < 1 || *neighbours > 100000 || (*weighting != "none" && *weighting != "iuf") ||
		(*feedback != "implicit" && *feedback != "explicit") {
		log.Fatal("bad --neighbours, --weighting or --feedback")
	}
	started := time.Now()
	t, err := loadTable(*dataPath)
	if err != nil {
		log.Fatal(err)
	}
	if len(t.users) == 0 {
		log.Fatal("the interactions table is empty")
	}
	if *feedback == "explicit" && t.unrated {
		log.Fatal("explicit feedback needs a rating on every row")
	}
	m := buildModel(t, *neighbours, *weighting, *feedback == "explicit", *normalize)
	lis, err := net.Listen("tcp", "127.0.0.1:"+*port)
	if err != nil {
		log.Fatal(err)
	}
	s := grpc.NewServer()
	healthpb.RegisterHealthServer(s, health{})
	pb.RegisterRecommendServer(s, &recommendServer{model: m, name: *name, token: *token, servedBy: &pb.ServedBy{
		WorkerId: "go-peer", ReplicaId: "go-peer/" + *name + "@1", Version: 1}})
	fmt.Printf("go grpc %s recommend peer on 127.0.0.1:%s GOMAXPROCS=%d model=%s (%d users, %d items, built in %v)\n",
		grpc.Version, *port, runtime.GOMAXPROCS(0), *name, len(m.users), len(m.items), time.Since(started).Round(time.Millisecond))
	log.Fatal(s.Serve(lis))
}
