# hookd: one static binary; the subcommand (api | worker | dev) picks the role.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/hookd ./cmd/hookd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hookd /usr/local/bin/hookd
ENTRYPOINT ["/usr/local/bin/hookd"]
