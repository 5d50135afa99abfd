# Independent oracle for HomaBone.Statistics tests: R's own quantile(), lm()/summary.lm(), confint(),
# prop.trend.test(), chisq.test(), and Cuzick's trend test written directly from Cuzick (1985) /
# Stata nptrend formulas (mid-ranks via rank(), tie blocks via rle() of the sorted outcome).
# Usage: Rscript reference.R <dir>   — reads <dir>/{reg,anc,q,pt,cz,lbl}_*.csv, writes <dir>/out_<file>.
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
fmt <- function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v))
emit <- function(f, keys, vals) {
  writeLines(paste(keys, fmt(as.numeric(vals)), sep = ","), file.path(dir, paste0("out_", f)))
}

for (f in list.files(dir, pattern = "^reg_.*\\.csv$")) {
  d <- read.csv(file.path(dir, f))
  noint <- grepl("^reg_noint", f)
  xs <- setdiff(names(d), "y")
  fo <- as.formula(paste("y ~", if (noint) "0 +" else "", paste(xs, collapse = " + ")))
  m <- lm(fo, data = d)
  s <- summary(m)
  cf <- coef(s)
  ci <- confint(m)
  mf <- m$model
  keys <- c(); vals <- c()
  for (i in seq_len(nrow(cf))) {
    nm <- rownames(cf)[i]
    std <- if (nm == "(Intercept)") NA else cf[i, 1] * sd(mf[[nm]]) / sd(mf$y)
    keys <- c(keys, paste0(nm, c(":est", ":se", ":t", ":p", ":lo", ":hi", ":std")))
    vals <- c(vals, cf[i, 1], cf[i, 2], cf[i, 3], cf[i, 4], ci[i, 1], ci[i, 2], std)
  }
  fs <- s$fstatistic
  keys <- c(keys, "r2", "adjr2", "sigma", "F", "Fp", "n", "dfres", "aliased")
  vals <- c(vals, s$r.squared, s$adj.r.squared, s$sigma, fs[1],
            pf(fs[1], fs[2], fs[3], lower.tail = FALSE), nobs(m), m$df.residual, sum(s$aliased))
  emit(f, keys, vals)
}

for (f in list.files(dir, pattern = "^anc_.*\\.csv$")) {
  d <- read.csv(file.path(dir, f))
  cs <- setdiff(names(d), c("y", "g"))
  d$gf <- factor(d$g)
  m <- lm(as.formula(paste("y ~ gf +", paste(cs, collapse = " + "))), data = d)
  mf <- m$model
  sdref <- sd(mf$y[mf$gf == levels(mf$gf)[1]])
  cf <- coef(summary(m)); ci <- confint(m)
  keys <- c("sdref", "n", "df"); vals <- c(sdref, nobs(m), m$df.residual)
  for (lev in levels(mf$gf)[-1]) {
    nm <- paste0("gf", lev)
    keys <- c(keys, paste0(lev, c(":est", ":se", ":p", ":lo", ":hi", ":est_sd", ":lo_sd", ":hi_sd")))
    vals <- c(vals, cf[nm, 1], cf[nm, 2], cf[nm, 4], ci[nm, 1], ci[nm, 2],
              cf[nm, 1] / sdref, ci[nm, 1] / sdref, ci[nm, 2] / sdref)
  }
  emit(f, keys, vals)
}

for (f in list.files(dir, pattern = "^q_.*\\.csv$")) {
  x <- read.csv(file.path(dir, f))$x
  probs <- c(0, 0.1, 0.25, 1/3, 0.5, 2/3, 0.75, 0.9, 0.99, 1)
  keys <- c(); vals <- c()
  for (type in 1:9) {
    keys <- c(keys, paste0("t", type, ":", seq_along(probs)))
    vals <- c(vals, quantile(x, probs, type = type, na.rm = TRUE, names = FALSE))
  }
  for (k in c(4, 5, 10)) {
    keys <- c(keys, paste0("xt", k, ":", 1:(k - 1)))
    vals <- c(vals, quantile(x, (1:(k - 1)) / k, type = 2, na.rm = TRUE, names = FALSE))
  }
  emit(f, keys, vals)
}

cuzick <- function(y, g) {
  ok <- !is.na(y) & !is.na(g); y <- y[ok]; g <- g[ok]
  N <- length(y); r <- rank(y); L <- sum(g)
  T <- sum(g * r); ET <- (N + 1) * L / 2
  V0 <- (N + 1) / 12 * (N * sum(g^2) - L^2)
  t <- rle(sort(y))$lengths
  V <- V0 * (1 - sum(t^3 - t) / (N^3 - N))
  z <- (T - ET) / sqrt(V)
  c(N, T, ET, V, z, 2 * pnorm(-abs(z)))
}
for (f in list.files(dir, pattern = "^cz_.*\\.csv$")) {
  d <- read.csv(file.path(dir, f))
  emit(f, c("n", "T", "ET", "V", "z", "p"), cuzick(d$y, d$g))
}

for (f in list.files(dir, pattern = "^pt_.*\\.csv$")) {
  d <- read.csv(file.path(dir, f))
  r <- prop.trend.test(d$events, d$totals, d$scores)
  emit(f, c("chisq", "p"), c(r$statistic, r$p.value))
}

for (f in list.files(dir, pattern = "^lbl_.*\\.csv$")) {
  d <- read.csv(file.path(dir, f))
  d <- d[complete.cases(d), ]
  N <- nrow(d)
  m2 <- (N - 1) * cor(d$x, d$y)^2
  ch <- suppressWarnings(chisq.test(table(d$x, d$y), correct = FALSE))
  emit(f, c("m2", "m2p", "x2", "x2df", "x2p"),
       c(m2, pchisq(m2, 1, lower.tail = FALSE), ch$statistic, ch$parameter, ch$p.value))
}

for (f in list.files(dir, pattern = "^tails_.*\\.csv$")) {
  d <- read.csv(file.path(dir, f))
  keys <- c(); vals <- c()
  for (i in seq_len(nrow(d))) {
    keys <- c(keys, paste0(i, c(":pt", ":pf", ":pz", ":pchi", ":qt")))
    vals <- c(vals, 2 * pt(-abs(d$t[i]), d$df[i]), pf(d$f[i], d$df1[i], d$df2[i], lower.tail = FALSE),
              2 * pnorm(-abs(d$z[i])), pchisq(d$chi[i], d$chidf[i], lower.tail = FALSE), qt(0.975, d$df[i]))
  }
  emit(f, keys, vals)
}
