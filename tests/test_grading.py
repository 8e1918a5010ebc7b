"""Grading round trip with the real nbgrader command line, in a temporary course.

The repository's nbgrader_config.py and one chapter's source are copied into a
scratch course. Submissions are built from the generated student notebook:
the solution, the untouched notebook, and for every task several plausible
wrong answers (each alone in an otherwise correct notebook), plus submissions
that try nbgrader's known loopholes. All are autograded in one nbgrader run;
the tests then read each task's score from the gradebook, check the exported
grades.csv, and check that feedback shows no hidden test.
"""

from __future__ import annotations

import csv
import html
import re
import shutil
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, background, run

NOTEBOOK = "exercises"

# Each plausible wrong answer replaces one solution cell (by its nbgrader grade_id);
# TASK_OF_* maps that cell to the test cell whose points it must lose.
TASK_OF_1 = {
    "central_difference": "test_central_difference",
    "numerical_gradient": "test_numerical_gradient",
    "directional_derivative": "test_directional_derivative",
    "steepest_ascent": "test_steepest_ascent",
    "least_squares": "test_least_squares",
}


def _cell(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


WRONG_1 = {
    "central_difference": {
        "forward difference": """
            def central_difference(phi, s, eps=1e-6):
                return (phi(s + eps) - phi(s)) / eps
        """,
        "divides by eps instead of 2 eps": """
            def central_difference(phi, s, eps=1e-6):
                return (phi(s + eps) - phi(s - eps)) / eps
        """,
        "ignores the eps argument": """
            def central_difference(phi, s, eps=1e-6):
                h = 1e-2
                return (phi(s + h) - phi(s - h)) / (2 * h)
        """,
    },
    "numerical_gradient": {
        "perturbs every coordinate at once": """
            def numerical_gradient(f, x, eps=1e-6):
                x = np.array(x, dtype=float)
                slope = (f(x + eps) - f(x - eps)) / (2 * eps)
                return np.full_like(x, slope)
        """,
        "leaves the input modified": """
            def numerical_gradient(f, x, eps=1e-6):
                g = np.zeros(x.shape)
                for i in np.ndindex(x.shape):
                    x[i] += eps
                    f_plus = f(x)
                    x[i] -= 2 * eps
                    f_minus = f(x)
                    g[i] = (f_plus - f_minus) / (2 * eps)
                return g
        """,
        "keeps integer inputs as integers": """
            def numerical_gradient(f, x, eps=1e-6):
                x = x.copy()
                g = np.zeros_like(x)
                for i in np.ndindex(x.shape):
                    saved = x[i]
                    x[i] = saved + eps
                    f_plus = f(x)
                    x[i] = saved - eps
                    f_minus = f(x)
                    x[i] = saved
                    g[i] = (f_plus - f_minus) / (2 * eps)
                return g
        """,
        "loops over the first axis only": """
            def numerical_gradient(f, x, eps=1e-6):
                x = np.array(x, dtype=float)
                g = np.zeros_like(x)
                for i in range(len(x)):
                    saved = x[i].copy()
                    x[i] = saved + eps
                    f_plus = f(x)
                    x[i] = saved - eps
                    f_minus = f(x)
                    x[i] = saved
                    g[i] = (f_plus - f_minus) / (2 * eps)
                return g
        """,
    },
    "directional_derivative": {
        "normalises v": """
            def directional_derivative(f, x, v, eps=1e-6):
                v = np.asarray(v, dtype=float)
                v = v / np.linalg.norm(v)
                return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)
        """,
        "forward difference": """
            def directional_derivative(f, x, v, eps=1e-6):
                return (f(x + eps * v) - f(x)) / eps
        """,
    },
    "steepest_ascent": {
        "descent instead of ascent": """
            def steepest_ascent(g):
                norm = np.linalg.norm(g)
                if norm == 0:
                    return np.zeros_like(g), 0.0
                return -g / norm, norm
        """,
        "not normalised": """
            def steepest_ascent(g):
                return g, np.linalg.norm(g)
        """,
        "divides by zero at a stationary point": """
            def steepest_ascent(g):
                norm = np.linalg.norm(g)
                return g / norm, norm
        """,
    },
    "least_squares": {
        "sum instead of mean": """
            def least_squares_loss(w, X, y):
                r = X @ w - y
                return float(r @ r) / (2 * len(y))

            def least_squares_grad(w, X, y):
                return X.T @ (X @ w - y)
        """,
        "missing transpose": """
            def least_squares_loss(w, X, y):
                r = X @ w - y
                return float(r @ r) / (2 * len(y))

            def least_squares_grad(w, X, y):
                return X @ (X @ w - y) / len(y)
        """,
        "sign flipped": """
            def least_squares_loss(w, X, y):
                r = X @ w - y
                return float(r @ r) / (2 * len(y))

            def least_squares_grad(w, X, y):
                return X.T @ (y - X @ w) / len(y)
        """,
        "loss without the 1/2": """
            def least_squares_loss(w, X, y):
                r = X @ w - y
                return float(r @ r) / len(y)

            def least_squares_grad(w, X, y):
                return X.T @ (X @ w - y) / len(y)
        """,
    },
}

WRONG_2 = {
    "activation_derivatives": {
        "sigmoid' returns sigmoid": """
            def sigmoid_prime(z):
                return sigmoid(z)

            def tanh_prime(z):
                return 1.0 - np.tanh(z) ** 2

            def relu_prime(z):
                return (np.asarray(z) > 0).astype(float)
        """,
        "tanh' evaluated as 1 - z^2": """
            def sigmoid_prime(z):
                s = sigmoid(z)
                return s * (1.0 - s)

            def tanh_prime(z):
                return 1.0 - z ** 2

            def relu_prime(z):
                return (np.asarray(z) > 0).astype(float)
        """,
        "relu'(0) = 1": """
            def sigmoid_prime(z):
                s = sigmoid(z)
                return s * (1.0 - s)

            def tanh_prime(z):
                return 1.0 - np.tanh(z) ** 2

            def relu_prime(z):
                return (np.asarray(z) >= 0).astype(float)
        """,
        "naive sigmoid overflows": """
            def sigmoid_prime(z):
                s = 1.0 / (1.0 + np.exp(-z))
                return s * (1.0 - s)

            def tanh_prime(z):
                return 1.0 - np.tanh(z) ** 2

            def relu_prime(z):
                return (np.asarray(z) > 0).astype(float)
        """,
    },
    "softmax": {
        "no max subtraction": """
            def softmax(Z):
                E = np.exp(Z)
                return E / E.sum(axis=1, keepdims=True)
        """,
        "normalises columns": """
            def softmax(Z):
                E = np.exp(Z - Z.max(axis=0, keepdims=True))
                return E / E.sum(axis=0, keepdims=True)
        """,
        "subtracts the global maximum": """
            def softmax(Z):
                E = np.exp(Z - Z.max())
                return E / E.sum(axis=1, keepdims=True)
        """,
    },
    "softmax_cross_entropy": {
        "sum instead of mean": """
            def softmax_cross_entropy(Z, labels):
                B = Z.shape[0]
                P = softmax(Z)
                Y = np.eye(Z.shape[1])[labels]
                return float(-np.sum(np.log(P[np.arange(B), labels]))), P - Y
        """,
        "gradient without 1/B": """
            def softmax_cross_entropy(Z, labels):
                B = Z.shape[0]
                shifted = Z - Z.max(axis=1, keepdims=True)
                log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
                Y = np.eye(Z.shape[1])[labels]
                return float(-log_p[np.arange(B), labels].mean()), np.exp(log_p) - Y
        """,
        "log of the softmax underflows": """
            def softmax_cross_entropy(Z, labels):
                B = Z.shape[0]
                P = softmax(Z)
                Y = np.eye(Z.shape[1])[labels]
                return float(-np.mean(np.log(P[np.arange(B), labels]))), (P - Y) / B
        """,
        "sign flipped gradient": """
            def softmax_cross_entropy(Z, labels):
                B = Z.shape[0]
                shifted = Z - Z.max(axis=1, keepdims=True)
                log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
                Y = np.eye(Z.shape[1])[labels]
                return float(-log_p[np.arange(B), labels].mean()), (Y - np.exp(log_p)) / B
        """,
    },
    "dense_backward": {
        "missing transpose": """
            def dense_backward(dZ, A_prev, W):
                return dZ @ W, A_prev.T @ dZ, dZ.sum(axis=0)
        """,
        "mean over the batch for db": """
            def dense_backward(dZ, A_prev, W):
                return dZ @ W.T, A_prev.T @ dZ, dZ.mean(axis=0)
        """,
        "dW transposed": """
            def dense_backward(dZ, A_prev, W):
                return dZ @ W.T, dZ.T @ A_prev, dZ.sum(axis=0)
        """,
    },
    "mlp_backward": {
        "g' at A instead of Z": """
            def mlp_backward(Ws, zs, As, delta_L, g_prime):
                grads, delta = {}, delta_L
                for l in range(len(Ws), 0, -1):
                    dA_prev, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(delta, As[l - 1], Ws[l - 1])
                    if l > 1:
                        delta = dA_prev * g_prime(As[l - 1])
                return grads
        """,
        "forgets g'": """
            def mlp_backward(Ws, zs, As, delta_L, g_prime):
                grads, delta = {}, delta_L
                for l in range(len(Ws), 0, -1):
                    dA_prev, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(delta, As[l - 1], Ws[l - 1])
                    delta = dA_prev
                return grads
        """,
        "g' of the wrong layer": """
            def mlp_backward(Ws, zs, As, delta_L, g_prime):
                grads, delta = {}, delta_L
                for l in range(len(Ws), 0, -1):
                    dA_prev, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(delta, As[l - 1], Ws[l - 1])
                    if l > 1:
                        delta = dA_prev * g_prime(zs[l])
                return grads
        """,
    },
    "gradient_check": {
        "forward difference": """
            def gradient_check(R, params, grads, eps=1e-6):
                errors = {}
                for name, theta in params.items():
                    numeric = np.zeros_like(theta, dtype=float)
                    base = R(params)
                    for i in np.ndindex(theta.shape):
                        saved = theta[i]
                        theta[i] = saved + eps
                        numeric[i] = (R(params) - base) / eps
                        theta[i] = saved
                    a = np.asarray(grads[name], dtype=float)
                    errors[name] = float(np.max(np.abs(a - numeric) / np.maximum(np.maximum(np.abs(a), np.abs(numeric)), 1e-2)))
                return errors
        """,
        "does not restore the parameters": """
            def gradient_check(R, params, grads, eps=1e-6):
                errors = {}
                for name, theta in params.items():
                    numeric = np.zeros_like(theta, dtype=float)
                    for i in np.ndindex(theta.shape):
                        theta[i] += eps
                        plus = R(params)
                        theta[i] -= 2 * eps
                        minus = R(params)
                        numeric[i] = (plus - minus) / (2 * eps)
                    a = np.asarray(grads[name], dtype=float)
                    errors[name] = float(np.max(np.abs(a - numeric) / np.maximum(np.maximum(np.abs(a), np.abs(numeric)), 1e-2)))
                return errors
        """,
        "absolute instead of relative error": """
            def gradient_check(R, params, grads, eps=1e-6):
                errors = {}
                for name, theta in params.items():
                    numeric = np.zeros_like(theta, dtype=float)
                    for i in np.ndindex(theta.shape):
                        saved = theta[i]
                        theta[i] = saved + eps
                        plus = R(params)
                        theta[i] = saved - eps
                        minus = R(params)
                        theta[i] = saved
                        numeric[i] = (plus - minus) / (2 * eps)
                    errors[name] = float(np.max(np.abs(np.asarray(grads[name]) - numeric)))
                return errors
        """,
    },
}

TASK_OF_2 = {cell: f"test_{cell}" for cell in WRONG_2}

WRONG_3 = {
    "minibatches": {
        "no shuffling": """
            def minibatches(N, B, rng):
                order = np.arange(N)
                return [order[start:start + B] for start in range(0, N, B)]
        """,
        "the same permutation every epoch": """
            def minibatches(N, B, rng):
                order = np.random.default_rng(0).permutation(N)
                return [order[start:start + B] for start in range(0, N, B)]
        """,
        "drops the last partial batch": """
            def minibatches(N, B, rng):
                order = rng.permutation(N)
                return [order[start:start + B] for start in range(0, N - B + 1, B)]
        """,
    },
    "logistic_grad": {
        "labels treated as 0/1": """
            def logistic_grad(w, X, y):
                p = 1.0 / (1.0 + np.exp(-(X @ w)))
                return X.T @ (p - y) / len(y)
        """,
        "sum instead of mean": """
            def logistic_grad(w, X, y):
                weight = np.exp(-np.logaddexp(0.0, y * (X @ w)))
                return -(X.T @ (y * weight))
        """,
        "overflows for large margins": """
            def logistic_grad(w, X, y):
                return -(X.T @ (y / (1.0 + np.exp(y * (X @ w))))) / len(y)
        """,
    },
    "sgd_step": {
        "divides by N instead of B": """
            def sgd_step(w, X, y, batch, alpha, grad_fn):
                return w - alpha * sum(grad_fn(w, X[i], y[i]) for i in batch) / len(X)
        """,
        "steps up the gradient": """
            def sgd_step(w, X, y, batch, alpha, grad_fn):
                return w + alpha * sum(grad_fn(w, X[i], y[i]) for i in batch) / len(batch)
        """,
        "modifies w in place": """
            def sgd_step(w, X, y, batch, alpha, grad_fn):
                w -= alpha * sum(grad_fn(w, X[i], y[i]) for i in batch) / len(batch)
                return w
        """,
    },
    "average_stochastic_gradient": {
        "one index used k times": """
            def average_stochastic_gradient(w, X, y, k, rng, grad_fn):
                j = rng.integers(0, X.shape[0])
                return grad_fn(w, X[j], y[j])
        """,
        "the first k samples instead of random ones": """
            def average_stochastic_gradient(w, X, y, k, rng, grad_fn):
                idx = np.arange(k) % X.shape[0]
                return sum(grad_fn(w, X[j], y[j]) for j in idx) / k
        """,
        "divides by N instead of k": """
            def average_stochastic_gradient(w, X, y, k, rng, grad_fn):
                idx = rng.integers(0, X.shape[0], size=k)
                return sum(grad_fn(w, X[j], y[j]) for j in idx) / X.shape[0]
        """,
    },
    "train_digits": {
        "never updates the parameters": """
            def train_digits(X, y, rng):
                params = init_mlp([64, 64, 10], rng)
                for batch in minibatches(X.shape[0], 32, rng):
                    _, grads = mlp_loss_and_grad(params, X[batch], y[batch])
                return params
        """,
        "a step size that diverges": """
            def train_digits(X, y, rng):
                params = init_mlp([64, 64, 10], rng)
                for epoch in range(10):
                    for batch in minibatches(X.shape[0], 32, rng):
                        _, grads = mlp_loss_and_grad(params, X[batch], y[batch])
                        for name in params:
                            params[name] = params[name] - 50.0 * grads[name]
                return params
        """,
        "a single batch of training": """
            def train_digits(X, y, rng):
                params = init_mlp([64, 64, 10], rng)
                batch = minibatches(X.shape[0], 32, rng)[0]
                _, grads = mlp_loss_and_grad(params, X[batch], y[batch])
                for name in params:
                    params[name] = params[name] - 0.1 * grads[name]
                return params
        """,
    },
}

TASK_OF_3 = {cell: f"test_{cell}" for cell in WRONG_3}

WRONG_4 = {
    "momentum_step": {
        "adds the gradient (sign flip)": """
            def momentum_step(w, v, g, alpha, mu):
                v_new = mu * v + alpha * g
                return w + v_new, v_new
        """,
        "moves by the old velocity": """
            def momentum_step(w, v, g, alpha, mu):
                v_new = mu * v - alpha * g
                return w + v, v_new
        """,
        "updates w and v in place": """
            def momentum_step(w, v, g, alpha, mu):
                v *= mu
                v -= alpha * g
                w += v
                return w, v
        """,
        "returns (v, w)": """
            def momentum_step(w, v, g, alpha, mu):
                v_new = mu * v - alpha * g
                return v_new, w + v_new
        """,
    },
    "run_momentum": {
        "the lecture's v_1 = g_1": """
            def run_momentum(grad_fn, w0, alpha, mu, T):
                w = np.array(w0, dtype=float)
                v = grad_fn(w)
                path = [w]
                for _ in range(T):
                    w = w + v
                    path.append(w)
                    v = mu * v - alpha * grad_fn(w)
                return np.array(path)
        """,
        "leaves out w0": """
            def run_momentum(grad_fn, w0, alpha, mu, T):
                w, v, path = np.array(w0, dtype=float), np.zeros(len(w0)), []
                for _ in range(T):
                    w, v = momentum_step(w, v, grad_fn(w), alpha, mu)
                    path.append(w)
                return np.array(path)
        """,
        "gradient at the look-ahead point (Nesterov)": """
            def run_momentum(grad_fn, w0, alpha, mu, T):
                w = np.array(w0, dtype=float)
                v = np.zeros_like(w)
                path = [w]
                for _ in range(T):
                    w, v = momentum_step(w, v, grad_fn(w + mu * v), alpha, mu)
                    path.append(w)
                return np.array(path)
        """,
        "first step counted twice": """
            def run_momentum(grad_fn, w0, alpha, mu, T):
                w = np.array(w0, dtype=float)
                v = -alpha * grad_fn(w)
                path = [w]
                for _ in range(T):
                    w, v = momentum_step(w, v, grad_fn(w), alpha, mu)
                    path.append(w)
                return np.array(path)
        """,
    },
    "heavy_ball_factor": {
        "largest real part instead of modulus": """
            def heavy_ball_factor(alpha, mu, lam):
                M = np.array([[1.0 + mu - alpha * lam, -mu], [1.0, 0.0]])
                return float(np.max(np.linalg.eigvals(M).real))
        """,
        "+mu in the matrix": """
            def heavy_ball_factor(alpha, mu, lam):
                M = np.array([[1.0 + mu - alpha * lam, mu], [1.0, 0.0]])
                return float(np.max(np.abs(np.linalg.eigvals(M))))
        """,
        "gradient descent's factor": """
            def heavy_ball_factor(alpha, mu, lam):
                return abs(1.0 - alpha * lam)
        """,
        "forgets the mu on the diagonal": """
            def heavy_ball_factor(alpha, mu, lam):
                M = np.array([[1.0 - alpha * lam, -mu], [1.0, 0.0]])
                return float(np.max(np.abs(np.linalg.eigvals(M))))
        """,
    },
    "polyak_tuning": {
        "gradient descent's step": """
            def polyak_tuning(m, L):
                rho = (np.sqrt(L) - np.sqrt(m)) / (np.sqrt(L) + np.sqrt(m))
                return 2.0 / (L + m), rho ** 2
        """,
        "mu = rho, not rho squared": """
            def polyak_tuning(m, L):
                rho = (np.sqrt(L) - np.sqrt(m)) / (np.sqrt(L) + np.sqrt(m))
                return 4.0 / (np.sqrt(L) + np.sqrt(m)) ** 2, rho
        """,
        "the usual mu = 0.9": """
            def polyak_tuning(m, L):
                return 4.0 / (np.sqrt(L) + np.sqrt(m)) ** 2, 0.9
        """,
        "returns (mu, alpha)": """
            def polyak_tuning(m, L):
                rho = (np.sqrt(L) - np.sqrt(m)) / (np.sqrt(L) + np.sqrt(m))
                return rho ** 2, 4.0 / (np.sqrt(L) + np.sqrt(m)) ** 2
        """,
    },
    "sgdm_logistic": {
        "resets the velocity every epoch": """
            def sgdm_logistic(X, y, alpha, mu, B, epochs, rng):
                w = np.zeros(X.shape[1])
                for epoch in range(epochs):
                    v = np.zeros_like(w)
                    for batch in minibatches(X.shape[0], B, rng):
                        w, v = momentum_step(w, v, logistic_grad(w, X[batch], y[batch]), alpha, mu)
                return w
        """,
        "ignores mu (plain SGD)": """
            def sgdm_logistic(X, y, alpha, mu, B, epochs, rng):
                w = np.zeros(X.shape[1])
                for epoch in range(epochs):
                    for batch in minibatches(X.shape[0], B, rng):
                        w = w - alpha * logistic_grad(w, X[batch], y[batch])
                return w
        """,
        "one permutation for all epochs": """
            def sgdm_logistic(X, y, alpha, mu, B, epochs, rng):
                w, v = np.zeros(X.shape[1]), np.zeros(X.shape[1])
                batches = minibatches(X.shape[0], B, rng)
                for epoch in range(epochs):
                    for batch in batches:
                        w, v = momentum_step(w, v, logistic_grad(w, X[batch], y[batch]), alpha, mu)
                return w
        """,
        "its own generator": """
            def sgdm_logistic(X, y, alpha, mu, B, epochs, rng):
                rng = np.random.default_rng(0)
                w, v = np.zeros(X.shape[1]), np.zeros(X.shape[1])
                for epoch in range(epochs):
                    for batch in minibatches(X.shape[0], B, rng):
                        w, v = momentum_step(w, v, logistic_grad(w, X[batch], y[batch]), alpha, mu)
                return w
        """,
    },
}

TASK_OF_4 = {cell: f"test_{cell}" for cell in WRONG_4}

WRONG_5 = {
    "adagrad_step": {
        "eps outside the root": """
            def adagrad_step(w, c, g, alpha, eps=1e-6):
                c_new = c + g * g
                return w - alpha * g / (np.sqrt(c_new) + eps), c_new
        """,
        "no running sum": """
            def adagrad_step(w, c, g, alpha, eps=1e-6):
                c_new = g * g
                return w - alpha * g / np.sqrt(c_new + eps), c_new
        """,
        "divides by the old sum": """
            def adagrad_step(w, c, g, alpha, eps=1e-6):
                return w - alpha * g / np.sqrt(c + eps), c + g * g
        """,
        "updates c in place": """
            def adagrad_step(w, c, g, alpha, eps=1e-6):
                c += g * g
                return w - alpha * g / np.sqrt(c + eps), c
        """,
    },
    "rmsprop_step": {
        "beta and 1 - beta swapped": """
            def rmsprop_step(w, c, g, alpha, beta=0.9, eps=1e-6):
                c_new = (1 - beta) * c + beta * g * g
                return w - alpha * g / np.sqrt(c_new + eps), c_new
        """,
        "no (1 - beta) factor": """
            def rmsprop_step(w, c, g, alpha, beta=0.9, eps=1e-6):
                c_new = beta * c + g * g
                return w - alpha * g / np.sqrt(c_new + eps), c_new
        """,
        "AdaGrad's sum": """
            def rmsprop_step(w, c, g, alpha, beta=0.9, eps=1e-6):
                c_new = c + g * g
                return w - alpha * g / np.sqrt(c_new + eps), c_new
        """,
        "no square root": """
            def rmsprop_step(w, c, g, alpha, beta=0.9, eps=1e-6):
                c_new = beta * c + (1 - beta) * g * g
                return w - alpha * g / (c_new + eps), c_new
        """,
    },
    "adam_step": {
        "no bias correction": """
            def adam_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                v_new = beta1 * v + (1 - beta1) * g
                c_new = beta2 * c + (1 - beta2) * g * g
                return w - alpha * v_new / (np.sqrt(c_new) + eps), v_new, c_new
        """,
        "eps inside the root": """
            def adam_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                v_new = beta1 * v + (1 - beta1) * g
                c_new = beta2 * c + (1 - beta2) * g * g
                v_hat, c_hat = v_new / (1 - beta1**t), c_new / (1 - beta2**t)
                return w - alpha * v_hat / np.sqrt(c_hat + eps), v_new, c_new
        """,
        "returns the corrected moments": """
            def adam_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                v_hat = (beta1 * v + (1 - beta1) * g) / (1 - beta1**t)
                c_hat = (beta2 * c + (1 - beta2) * g * g) / (1 - beta2**t)
                return w - alpha * v_hat / (np.sqrt(c_hat) + eps), v_hat, c_hat
        """,
        "corrects only the second moment": """
            def adam_step(w, v, c, g, t, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                v_new = beta1 * v + (1 - beta1) * g
                c_new = beta2 * c + (1 - beta2) * g * g
                return w - alpha * v_new / (np.sqrt(c_new / (1 - beta2**t)) + eps), v_new, c_new
        """,
    },
    "adam_logistic": {
        "restarts the step count every epoch": """
            def adam_logistic(X, y, alpha, B, epochs, rng):
                w = np.zeros(X.shape[1])
                v, c = np.zeros_like(w), np.zeros_like(w)
                for epoch in range(epochs):
                    for t, batch in enumerate(minibatches(X.shape[0], B, rng), start=1):
                        w, v, c = adam_step(w, v, c, logistic_grad(w, X[batch], y[batch]), t, alpha=alpha)
                return w
        """,
        "resets the moments every epoch": """
            def adam_logistic(X, y, alpha, B, epochs, rng):
                w, t = np.zeros(X.shape[1]), 0
                for epoch in range(epochs):
                    v, c = np.zeros_like(w), np.zeros_like(w)
                    for batch in minibatches(X.shape[0], B, rng):
                        t += 1
                        w, v, c = adam_step(w, v, c, logistic_grad(w, X[batch], y[batch]), t, alpha=alpha)
                return w
        """,
        "plain SGD": """
            def adam_logistic(X, y, alpha, B, epochs, rng):
                w = np.zeros(X.shape[1])
                for epoch in range(epochs):
                    for batch in minibatches(X.shape[0], B, rng):
                        w = w - alpha * logistic_grad(w, X[batch], y[batch])
                return w
        """,
        "counts steps from 0": """
            def adam_logistic(X, y, alpha, B, epochs, rng):
                w = np.zeros(X.shape[1])
                v, c = np.zeros_like(w), np.zeros_like(w)
                t = 0
                for epoch in range(epochs):
                    for batch in minibatches(X.shape[0], B, rng):
                        w, v, c = adam_step(w, v, c, logistic_grad(w, X[batch], y[batch]), t, alpha=alpha)
                        t += 1
                return w
        """,
    },
}

TASK_OF_5 = {cell: f"test_{cell}" for cell in WRONG_5}

WRONG_6 = {
    "neighbouring": {
        "changes the data set passed in": """
            def neighbouring(X, y, i, x_new, y_new):
                X[i], y[i] = x_new, y_new
                return X, y
        """,
        "appends instead of replacing": """
            def neighbouring(X, y, i, x_new, y_new):
                return np.vstack([X, x_new]), np.append(y, y_new)
        """,
        "replaces the features only": """
            def neighbouring(X, y, i, x_new, y_new):
                X2 = X.copy()
                X2[i] = x_new
                return X2, y.copy()
        """,
    },
    "sgdem_run": {
        "keeps the velocity after T0": """
            def sgdem_run(grad_fn, w0, alpha, mu, T0, T):
                w = np.array(w0, dtype=float)
                v = np.zeros_like(w)
                path = [w]
                for t in range(T):
                    g = grad_fn(w)
                    if t < T0:
                        v = mu * v - alpha * g
                        w = w + v
                    else:
                        w = w + mu * v - alpha * g
                        v = mu * v
                    path.append(w)
                return np.array(path)
        """,
        "momentum one step too long": """
            def sgdem_run(grad_fn, w0, alpha, mu, T0, T):
                w = np.array(w0, dtype=float)
                v = np.zeros_like(w)
                path = [w]
                for t in range(T):
                    g = grad_fn(w)
                    if t <= T0:
                        v = mu * v - alpha * g
                        w = w + v
                    else:
                        w = w - alpha * g
                    path.append(w)
                return np.array(path)
        """,
        "momentum late instead of early": """
            def sgdem_run(grad_fn, w0, alpha, mu, T0, T):
                w = np.array(w0, dtype=float)
                v = np.zeros_like(w)
                path = [w]
                for t in range(T):
                    g = grad_fn(w)
                    if t >= T - T0:
                        v = mu * v - alpha * g
                        w = w + v
                    else:
                        w = w - alpha * g
                    path.append(w)
                return np.array(path)
        """,
    },
    "paired_gap": {
        "a permutation per run": """
            def paired_gap(X, y, X2, y2, alpha, mu, T0, epochs, rng):
                def run(X, y):
                    w, v, t = np.zeros(X.shape[1]), np.zeros(X.shape[1]), 0
                    for epoch in range(epochs):
                        for j in rng.permutation(X.shape[0]):
                            g = logistic_grad(w, X[j:j + 1], y[j:j + 1])
                            if t < T0:
                                v = mu * v - alpha * g
                                w = w + v
                            else:
                                w = w - alpha * g
                            t += 1
                    return w
                return float(np.linalg.norm(run(X, y) - run(X2, y2)))
        """,
        "restarts the step count every epoch": """
            def paired_gap(X, y, X2, y2, alpha, mu, T0, epochs, rng):
                N, d = X.shape
                w, v, w2, v2 = np.zeros(d), np.zeros(d), np.zeros(d), np.zeros(d)
                for epoch in range(epochs):
                    for t, j in enumerate(rng.permutation(N)):
                        g, g2 = logistic_grad(w, X[j:j + 1], y[j:j + 1]), logistic_grad(w2, X2[j:j + 1], y2[j:j + 1])
                        if t < T0:
                            v, v2 = mu * v - alpha * g, mu * v2 - alpha * g2
                            w, w2 = w + v, w2 + v2
                        else:
                            w, w2 = w - alpha * g, w2 - alpha * g2
                return float(np.linalg.norm(w - w2))
        """,
        "plain SGD throughout": """
            def paired_gap(X, y, X2, y2, alpha, mu, T0, epochs, rng):
                N, d = X.shape
                w, w2 = np.zeros(d), np.zeros(d)
                for epoch in range(epochs):
                    for j in rng.permutation(N):
                        w = w - alpha * logistic_grad(w, X[j:j + 1], y[j:j + 1])
                        w2 = w2 - alpha * logistic_grad(w2, X2[j:j + 1], y2[j:j + 1])
                return float(np.linalg.norm(w - w2))
        """,
    },
    "sgd_stability_bound": {
        "mean row norm": """
            def sgd_stability_bound(X, alpha, epochs):
                r = np.mean(np.linalg.norm(X, axis=1))
                if alpha > 8.0 / np.max(np.sum(X * X, axis=1)):
                    raise ValueError("step too large")
                return 2.0 * alpha * r * epochs
        """,
        "never raises": """
            def sgd_stability_bound(X, alpha, epochs):
                return 2.0 * alpha * np.max(np.linalg.norm(X, axis=1)) * epochs
        """,
        "squared norm for L": """
            def sgd_stability_bound(X, alpha, epochs):
                r2 = np.max(np.sum(X * X, axis=1))
                if alpha > 8.0 / r2:
                    raise ValueError("step too large")
                return 2.0 * alpha * r2 * epochs
        """,
        "beta without the 1/4": """
            def sgd_stability_bound(X, alpha, epochs):
                r2 = np.max(np.sum(X * X, axis=1))
                if alpha > 2.0 / r2:
                    raise ValueError("step too large")
                return 2.0 * alpha * np.sqrt(r2) * epochs
        """,
    },
}

TASK_OF_6 = {cell: f"test_{cell}" for cell in WRONG_6}

CHAPTERS = {
    "01-gradients": {"task_of": TASK_OF_1, "wrong": WRONG_1, "points": 12},
    # Task 5 calls the student's dense_backward from task 4, by design: a wrong layer
    # backward may also cost the network backward, and nothing else.
    "02-backprop": {"task_of": TASK_OF_2, "wrong": WRONG_2, "points": 14,
                    "depends": {"dense_backward": {"test_mlp_backward"}}},
    # Task 5 trains with the student's minibatches from task 1.
    "03-sgd": {"task_of": TASK_OF_3, "wrong": WRONG_3, "points": 11,
               "depends": {"minibatches": {"test_train_digits"}}},
    # Tasks 2 and 5 step with the student's momentum_step from task 1.
    "04-momentum": {"task_of": TASK_OF_4, "wrong": WRONG_4, "points": 11,
                    "depends": {"momentum_step": {"test_run_momentum", "test_sgdm_logistic"}}},
    # Task 4 trains with the student's adam_step from task 3.
    "05-adaptive": {"task_of": TASK_OF_5, "wrong": WRONG_5, "points": 10,
                    "depends": {"adam_step": {"test_adam_logistic"}}},
    "06-sgdem": {"task_of": TASK_OF_6, "wrong": WRONG_6, "points": 9},
}
WRONG_CASES = [(chapter, cell, label) for chapter, spec in CHAPTERS.items()
               for cell, answers in spec["wrong"].items() for label in answers]


def student_id(cell: str, label: str) -> str:
    return f"wrong-{cell}-{re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')}"


def rounds(chapter: str) -> list[dict[str, str]]:
    """The wrong answers of a chapter packed into few notebooks: {cell: label} per notebook.

    A notebook holds at most one wrong answer per task, wrong answers in at most half the
    tasks, and never a wrong answer next to one for a task it depends on (or that depends
    on it), so each wrong answer can lose only its own task (and its declared dependents),
    and the tasks left right show that it cost nothing elsewhere: what the test checks.
    """
    spec = CHAPTERS[chapter]
    depends = spec.get("depends", {})
    size = max(1, len(spec["task_of"]) // 2)       # half the tasks stay right: they must keep their points
    pending = [(cell, label) for cell, answers in spec["wrong"].items() for label in answers]
    packed: list[dict[str, str]] = []
    while pending:
        round_, rest = {}, []
        for cell, label in pending:
            tasks = {spec["task_of"][c] for c in round_}
            reached = set().union(*(depends.get(c, set()) for c in round_)) if round_ else set()
            if (len(round_) >= size or cell in round_ or spec["task_of"][cell] in reached
                    or tasks & depends.get(cell, set())):
                rest.append((cell, label))
            else:
                round_[cell] = label
        packed.append(round_)
        pending = rest
    return packed


def round_id(chapter: str, cell: str, label: str) -> tuple[str, dict[str, str]]:
    """The student id of the notebook that holds this wrong answer, and that notebook's wrong answers."""
    for k, round_ in enumerate(rounds(chapter)):
        if round_.get(cell) == label:
            return f"wrong-round-{k}", round_
    raise KeyError((chapter, cell, label))


def source_of(chapter: str) -> Path:
    return ROOT / "solutions" / chapter / f"{NOTEBOOK}.ipynb"


def solutions_by_cell(chapter: str) -> dict[str, str]:
    """The source notebook's solution cells with the nbgrader markers removed."""
    out = {}
    for cell in nbformat.read(source_of(chapter), as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            out[meta["grade_id"]] = "\n".join(
                line for line in cell.source.splitlines() if "### BEGIN SOLUTION" not in line
                and "### END SOLUTION" not in line)
    return out


def fill(release_nb, answers: dict[str, str]):
    nb = nbformat.reads(nbformat.writes(release_nb), as_version=4)  # a deep copy
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nb


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_every_solution_cell_has_wrong_answers(chapter):
    """The round trip covers every task with at least two plausible wrong answers."""
    spec = CHAPTERS[chapter]
    assert set(solutions_by_cell(chapter)) == set(spec["wrong"]) == set(spec["task_of"])
    assert all(len(answers) >= 2 for answers in spec["wrong"].values())
    assert sorted(CHAPTERS) == sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()), \
        "every chapter with exercises needs a grading round trip here"


def loophole_submissions(release_nb, chapter):
    """Submissions that try nbgrader's known holes (chapter 1 only: the config is shared)."""
    spec, right = CHAPTERS[chapter], solutions_by_cell(chapter)
    out = {}
    # Tag every test cell skip-execution, with no work done.
    tagged = fill(release_nb, {})
    for c in tagged.cells:
        if c.metadata.get("nbgrader", {}).get("grade"):
            c.metadata["tags"] = ["skip-execution", "raises-exception"]
    out["skip-tags"] = tagged
    # Replace the test cells' code and delete one test cell, with wrong answers everywhere.
    edited = fill(release_nb, {cell: _cell(next(iter(a.values()))) for cell, a in spec["wrong"].items()})
    for c in edited.cells:
        if c.metadata.get("nbgrader", {}).get("grade"):
            c.source = "print('all good')"
    edited.cells = [c for c in edited.cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") != "test_least_squares"]
    out["edited-tests"] = edited
    # Not a loophole: a correct answer that prints a warning keeps its points.
    noisy = dict(right)
    noisy["central_difference"] = right["central_difference"].replace(
        '"""Central difference', 'import warnings\n    warnings.warn("just a note", RuntimeWarning)\n    """Central difference', 1)
    assert noisy["central_difference"] != right["central_difference"]
    out["warns"] = fill(release_nb, noisy)
    # An endless loop loses its task only.
    looping = dict(right)
    looping["steepest_ascent"] = "def steepest_ascent(g):\n    while True:\n        pass"
    out["endless-loop"] = fill(release_nb, looping)
    return out


def grade_chapter(root: Path, chapter: str) -> dict:
    spec = CHAPTERS[chapter]
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / chapter, root / "solutions" / chapter)
    nbgrader = [sys.executable, "-m", "nbgrader"]
    run([*nbgrader, "generate_assignment", chapter, "--force"], cwd=root)
    release_nb = nbformat.read(root / "release" / chapter / f"{NOTEBOOK}.ipynb", as_version=4)

    right = solutions_by_cell(chapter)
    submissions = {"solution": fill(release_nb, right), "untouched": fill(release_nb, {})}
    for k, round_ in enumerate(rounds(chapter)):
        wrong = {cell: _cell(spec["wrong"][cell][label]) for cell, label in round_.items()}
        submissions[f"wrong-round-{k}"] = fill(release_nb, {**right, **wrong})
    if chapter == "01-gradients":   # one wrong answer alone, for the exported grades
        submissions[student_id("least_squares", "sum instead of mean")] = fill(
            release_nb, {**right, "least_squares": _cell(spec["wrong"]["least_squares"]["sum instead of mean"])})
    if chapter == "01-gradients":
        submissions.update(loophole_submissions(release_nb, chapter))

    for sid, nb in submissions.items():
        dest = root / "submitted" / sid / chapter / f"{NOTEBOOK}.ipynb"
        dest.parent.mkdir(parents=True)
        nbformat.write(nb, dest)

    # A short cell timeout keeps the endless loop cheap; the repository default is 60 s.
    run([*nbgrader, "autograde", chapter, "--create", "--Execute.timeout=10"], cwd=root)
    run([*nbgrader, "export", "--to", "grades.csv"], cwd=root)
    run([*nbgrader, "generate_feedback", chapter], cwd=root)

    from nbgrader.api import Gradebook
    scores, max_scores = {}, {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for sid in submissions:
            sub = gb.find_submission_notebook(NOTEBOOK, chapter, sid)
            scores[sid] = {g.name: g.score for g in sub.grades}
            max_scores = {g.name: g.max_score for g in sub.grades}
    return {"root": root, "scores": scores, "max": max_scores, "chapter": chapter}


def start_in_background() -> None:
    for chapter in sorted(CHAPTERS):
        background(f"grading-{chapter}", grade_chapter, chapter)


@pytest.fixture(scope="module")
def graded():
    """graded(chapter): the round trip's results for a chapter (started at collection, see conftest)."""
    def get(chapter: str) -> dict:
        return background(f"grading-{chapter}", grade_chapter, chapter).result()
    return get


@pytest.fixture
def course(graded):
    return graded("01-gradients")


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_solution_scores_full_marks(graded, chapter):
    result = graded(chapter)
    assert set(result["max"]) == set(CHAPTERS[chapter]["task_of"].values())
    assert result["scores"]["solution"] == result["max"]
    assert sum(result["max"].values()) == CHAPTERS[chapter]["points"]


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_untouched_notebook_scores_zero(graded, chapter):
    assert all(score == 0 for score in graded(chapter)["scores"]["untouched"].values())


@pytest.mark.parametrize("chapter,cell,label", WRONG_CASES, ids=[f"{ch} {c}: {l}" for ch, c, l in WRONG_CASES])
def test_wrong_answer_loses_its_task(graded, chapter, cell, label):
    result = graded(chapter)
    sid, round_ = round_id(chapter, cell, label)
    scores, max_scores = result["scores"][sid], result["max"]
    spec = CHAPTERS[chapter]
    task = spec["task_of"][cell]
    assert scores[task] == 0, f"'{label}' kept the points of {task}"
    lost = {spec["task_of"][c] for c in round_} | set().union(*(spec.get("depends", {}).get(c, set()) for c in round_))
    others = {k: v for k, v in scores.items() if k not in lost}
    assert others, "the notebook must leave some task to check"
    assert others == {k: max_scores[k] for k in others}, "a wrong answer in one task cost points elsewhere"


def test_skip_execution_tags_do_not_skip_tests(course):
    assert all(score == 0 for score in course["scores"]["skip-tags"].values())


def test_edited_or_deleted_tests_are_restored(course):
    assert all(score == 0 for score in course["scores"]["edited-tests"].values())



def test_a_warning_does_not_cost_points(course):
    assert course["scores"]["warns"] == course["max"]


def test_an_endless_loop_loses_only_its_task(course):
    scores, max_scores = course["scores"]["endless-loop"], course["max"]
    assert scores["test_steepest_ascent"] == 0
    assert sum(scores.values()) == sum(max_scores.values()) - max_scores["test_steepest_ascent"]


def test_exported_grades(course):
    with open(course["root"] / "grades.csv") as fh:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(fh)}
    assert rows["solution"] == 12.0
    assert rows["untouched"] == 0.0
    assert rows[student_id("least_squares", "sum instead of mean")] == 9.0


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_feedback_shows_visible_tests_but_no_hidden_test(graded, chapter):
    result = graded(chapter)
    hidden_lines, visible_lines = set(), set()
    for cell in nbformat.read(source_of(chapter), as_version=4).cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            visible, _, rest = cell.source.partition("### BEGIN HIDDEN TESTS")
            hidden, _, _ = rest.partition("### END HIDDEN TESTS")
            hidden_lines |= {ln.strip() for ln in hidden.splitlines() if len(ln.strip()) > 30}
            visible_lines |= {ln.strip() for ln in visible.splitlines() if len(ln.strip()) > 30}
    hidden_lines -= visible_lines  # a line that is also visible is no secret
    assert hidden_lines and visible_lines
    pages = list((result["root"] / "feedback").rglob("*.html"))
    assert len(pages) == len(result["scores"])
    for page in pages:
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        assert "BEGIN HIDDEN TESTS" not in text
        # a hidden test's line that the student happened to write in an answer is the student's own
        sid = page.relative_to(result["root"] / "feedback").parts[0]
        submitted = nbformat.read(result["root"] / "submitted" / sid / chapter / f"{NOTEBOOK}.ipynb", as_version=4)
        own = "\n".join(c.source for c in submitted.cells
                        if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("grade"))
        leaked = [ln for ln in hidden_lines if ln in text and ln not in own]
        assert not leaked, f"{page}: hidden test code in feedback: {leaked[:2]}"
        assert any(ln in text for ln in visible_lines), f"{page}: the visible tests are missing"


def test_feedback_explains_a_hidden_failure_in_words(course):
    """A hidden test's failure names the function and what went wrong, without hidden details."""
    sid, _ = round_id("01-gradients", "steepest_ascent", "divides by zero at a stationary point")
    page = course["root"] / "feedback" / sid / "01-gradients" / f"{NOTEBOOK}.html"
    text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
    assert "your steepest_ascent() raised RuntimeWarning in a hidden test" in text


def test_nbgrader_config_closes_the_known_holes():
    """The repository's nbgrader_config.py, loaded as nbgrader loads it."""
    from traitlets.config import Config

    ns = {"get_config": Config, "__file__": str(ROOT / "nbgrader_config.py")}
    exec(compile((ROOT / "nbgrader_config.py").read_text(), "nbgrader_config.py", "exec"), ns)
    c = ns["c"]
    assert c.Execute.skip_cells_with_tag not in ("skip-execution", "")
    assert ns["StripExecutionTags"] in c.Autograde.sanitize_preprocessors
    grading = [p.__name__ for p in c.Autograde.autograde_preprocessors]
    assert grading[0] == "ConfinedExecute" and "Execute" not in grading, "student code must run confined"
    assert grading.index("ConfinedExecute") < grading.index("SaveAutoGrades")
    assert c.ConfinedExecute.notebook_timeout > 0 and c.ConfinedExecute.memory_bytes > 0
    names = [p.__name__ for p in c.GenerateFeedback.preprocessors]
    assert "ClearHiddenTests" in names and "ShortTracebacks" in names and "SanitizeFeedback" in names
    assert c.HTMLExporter.sanitize_html is True

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "1", metadata={"tags": ["skip-execution", "raises-exception", "keep-me"]})])
    nb, _ = ns["StripExecutionTags"]()(nb, {})
    assert nb.cells[0].metadata["tags"] == ["keep-me"]

    cell = nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
        "error", ename="AssertionError", evalue="entry (1,) is off", traceback=["line 1", "hidden = 1", "line 3"])])
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = ns["ShortTracebacks"]()(nb, {})
    assert nb.cells[0].outputs[0]["traceback"] == ["AssertionError: entry (1,) is off"]


def test_instructor_make_targets(tmp_path):
    """The README's instructor commands, `make grade` and `make feedback`, on a copy of the course."""
    course = tmp_path / "course"
    shutil.copytree(ROOT, course, ignore=shutil.ignore_patterns(
        ".venv", ".git", "_build", "_extra", ".mathjax", "submitted", "autograded", "feedback", "release",
        "gradebook.db", "grades.csv", "__pycache__", ".pytest_cache"))
    (course / ".venv").symlink_to(ROOT / ".venv")
    right = solutions_by_cell("01-gradients")
    release_nb = nbformat.read(ROOT / "chapters" / "01-gradients" / f"{NOTEBOOK}.ipynb", as_version=4)
    for sid, answers in (("ada", right), ("bob", {})):
        dest = course / "submitted" / sid / "01-gradients" / f"{NOTEBOOK}.ipynb"
        dest.parent.mkdir(parents=True)
        nbformat.write(fill(release_nb, answers), dest)
    make = ["make", "-o", ".venv/.installed"]  # the venv is shared, not rebuilt
    usage = run([*make, "grade"], cwd=course, check=False)
    assert usage.returncode != 0 and "usage: make grade A=" in usage.stderr
    run([*make, "grade", "A=01-gradients"], cwd=course)
    with open(course / "grades.csv") as fh:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(fh)}
    assert rows == {"ada": 12.0, "bob": 0.0}
    run([*make, "feedback", "A=01-gradients"], cwd=course)
    assert (course / "feedback" / "ada" / "01-gradients" / f"{NOTEBOOK}.html").is_file()
